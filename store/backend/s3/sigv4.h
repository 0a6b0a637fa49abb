// AWS Signature Version 4 for S3 requests (the "Authorization header" form, payload hashed or
// UNSIGNED-PAYLOAD). Written here rather than taken from libcurl: Debian 12's libcurl 7.88
// (CURLOPT_AWS_SIGV4) neither sorts nor encodes query strings and mis-signs some hosts with
// ports. Checked against the worked examples AWS publishes (tests/store/s3_sigv4_test.cpp).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::s3 {

// SHA-256 of an empty body, the payload hash of every request without one.
inline constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct SigningKey {
    std::string access_key_id;
    std::string secret_access_key;
    std::string region;   // us-east-1 unless the store wants another
    std::string service;  // "s3"
};

struct RequestToSign {
    std::string method;  // GET, PUT, HEAD, DELETE, POST
    std::string path;    // already URI-encoded (S3Location::object_path)
    // Query parameters, not encoded; order does not matter.
    std::vector<std::pair<std::string, std::string>> query;
    // Headers to sign; names in any case. Must hold host, x-amz-date and x-amz-content-sha256.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload_sha256;  // lower-case hex, or "UNSIGNED-PAYLOAD"
};

// RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is encoded
// (upper-case hex); '/' too unless `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// The canonical request and the string to sign (exposed so tests can compare each step with
// AWS's examples). `amz_date` is the request's x-amz-date, YYYYMMDDTHHMMSSZ.
std::string canonical_request(const RequestToSign& r);
std::string string_to_sign(const RequestToSign& r, const SigningKey& key,
                           const std::string& amz_date);
// The value of the Authorization header.
std::string authorization(const RequestToSign& r, const SigningKey& key,
                          const std::string& amz_date);
// The query string of `query` as canonical_request encodes it (sorted, encoded), for the URL.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

// Hex SHA-256 of `data`, as payload hashes are written.
std::string sha256_hex(std::string_view data);

}  // namespace strata::s3
