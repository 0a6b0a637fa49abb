#include "store/backend/s3/s3_location.h"

#include <cctype>

#include "store/backend/s3/sigv4.h"
#include "store/base/errors.h"

namespace strata::s3 {
namespace {

[[noreturn]] void bad_location(const std::string& location, const std::string& why) {
    throw_usage("cannot use the repository location \"" + location + "\": " + why +
                "; an S3 repository is named s3:http[s]://host[:port]/bucket[/prefix], e.g. "
                "s3:https://s3.example.net/backups/alice");
}

// S3's rules for bucket names (3 to 63 characters: lower-case letters, digits, '.', '-'; a
// letter or digit first and last); Ceph RGW and MinIO apply the same.
bool valid_bucket(const std::string& b) {
    if (b.size() < 3 || b.size() > 63) return false;
    for (char c : b)
        if (!(std::islower(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
            return false;
    auto edge = [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c));
    };
    return edge(b.front()) && edge(b.back());
}

}  // namespace

bool is_s3_location(const std::string& location) { return location.rfind("s3:", 0) == 0; }

S3Location parse_s3_location(const std::string& location, bool virtual_host) {
    if (!is_s3_location(location)) bad_location(location, "it does not start with s3:");
    std::string rest = location.substr(3);
    S3Location l;
    l.virtual_host = virtual_host;
    if (rest.rfind("https://", 0) == 0) {
        l.https = true;
        rest = rest.substr(8);
    } else if (rest.rfind("http://", 0) == 0) {
        l.https = false;
        rest = rest.substr(7);
    } else {
        bad_location(location, "no http:// or https:// after s3:");
    }
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (authority.find('@') != std::string::npos)
        bad_location(location,
                     "credentials do not belong in the location (they would show in `ps` and in "
                     "mount tables); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use a "
                     "credentials file");
    std::string host = authority, port;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) bad_location(location, "unclosed [ in the host");
        host = authority.substr(0, close + 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') bad_location(location, "junk after the IPv6 host");
            port = authority.substr(close + 2);
        }
    } else if (auto colon = authority.find(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) bad_location(location, "no host");
    l.host = host;
    if (!port.empty() || authority.find(':') != std::string::npos) {
        int p = 0;
        for (char c : port) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || p > 65535) {
                p = -1;
                break;
            }
            p = p * 10 + (c - '0');
        }
        if (port.empty() || p <= 0 || p > 65535)
            bad_location(location, "the port \"" + port + "\" is not a number from 1 to 65535");
        l.port = p;
    }
    while (!path.empty() && path.back() == '/') path.pop_back();
    auto cut = path.find('/');
    l.bucket = path.substr(0, cut);
    if (l.bucket.empty()) bad_location(location, "no bucket after the host");
    if (!valid_bucket(l.bucket))
        bad_location(location,
                     "\"" + l.bucket +
                         "\" is not a valid bucket name (3 to 63 lower-case letters, "
                         "digits, '.' or '-', starting and ending with a letter or digit)");
    if (cut != std::string::npos) {
        l.prefix = path.substr(cut + 1);
        if (l.prefix.find("//") != std::string::npos)
            bad_location(location, "an empty folder (//) in the prefix");
    }
    return l;
}

std::string S3Location::url() const {
    std::string u = std::string("s3:") + (https ? "https://" : "http://") + host;
    if (port) u += ":" + std::to_string(port);
    u += "/" + bucket;
    if (!prefix.empty()) u += "/" + prefix;
    return u;
}

std::string S3Location::host_header() const {
    std::string h = virtual_host ? bucket + "." + host : host;
    if (port) h += ":" + std::to_string(port);
    return h;
}

std::string S3Location::endpoint() const {
    return std::string(https ? "https://" : "http://") + host_header();
}

std::string S3Location::key_of(const std::string& name) const {
    return prefix.empty() ? name : prefix + "/" + name;
}

std::string S3Location::object_path(const std::string& key) const {
    std::string path = virtual_host ? "" : "/" + bucket;
    return path + "/" + uri_encode(key_of(key), /*keep_slash=*/true);
}

std::string S3Location::bucket_path() const { return virtual_host ? "/" : "/" + bucket; }

}  // namespace strata::s3
