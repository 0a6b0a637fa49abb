// Where an S3 repository lives, as the user names it: s3:http[s]://host[:port]/bucket[/prefix]
// (docs/cli.md, "Repository locations"). Path-style addressing by default; virtual-hosted style
// (bucket.host) on request, for stores that offer nothing else.
#pragma once

#include <string>

namespace strata::s3 {

struct S3Location {
    bool https = true;
    std::string host;  // as given: a name, an IPv4 address or a bracketed IPv6 address
    int port = 0;      // 0: the scheme's default
    std::string bucket;
    std::string prefix;  // without leading or trailing '/'; "" for the bucket's root
    bool virtual_host = false;

    // The location as the user wrote it (s3:http://host:port/bucket/prefix), for messages.
    std::string url() const;
    // scheme://host[:port], or scheme://bucket.host[:port] in virtual-hosted style.
    std::string endpoint() const;
    // The Host header the requests carry (and sign): host[:port], with the bucket in front in
    // virtual-hosted style.
    std::string host_header() const;
    // The request path of an object key below the prefix, URI-encoded as S3 signs it
    // ("/bucket/prefix/packs/ab/ab12.pack"); key "" gives the bucket (or prefix) itself.
    std::string object_path(const std::string& key) const;
    // The path a bucket-level request (list) goes to: "/bucket" or "/".
    std::string bucket_path() const;
    // The full key of `name` in the bucket ("prefix/name", or "name" without a prefix).
    std::string key_of(const std::string& name) const;
};

// Whether `location` names an S3 repository (starts with "s3:").
bool is_s3_location(const std::string& location);

// Parses "s3:http[s]://host[:port]/bucket[/prefix]". Throws Usage naming what is wrong and the
// form expected: no scheme, an empty host, a bad port, a bucket name S3 refuses.
S3Location parse_s3_location(const std::string& location, bool virtual_host = false);

}  // namespace strata::s3
