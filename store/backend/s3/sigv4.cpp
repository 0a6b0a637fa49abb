#include "store/backend/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "store/base/bytes.h"
#include "store/base/hash.h"

namespace strata::s3 {
namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
        throw std::runtime_error("HMAC-SHA256 failed (libcrypto)");
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A header value as SigV4 canonicalizes it: leading and trailing blanks removed, inner runs of
// blanks collapsed to one space.
std::string trim_value(const std::string& v) {
    std::string out;
    bool blank = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            blank = !out.empty();
            continue;
        }
        if (blank) out += ' ';
        blank = false;
        out += c;
    }
    return out;
}

struct CanonicalHeaders {
    std::string lines;    // "name:value\n" each, sorted by name
    std::string signed_;  // "name;name"
};

CanonicalHeaders canonical_headers(const RequestToSign& r) {
    std::vector<std::pair<std::string, std::string>> h;
    for (const auto& [name, value] : r.headers) h.emplace_back(lower(name), trim_value(value));
    std::sort(h.begin(), h.end());
    CanonicalHeaders c;
    for (std::size_t i = 0; i < h.size(); ++i) {
        // Repeated names join their values with commas.
        if (i > 0 && h[i].first == h[i - 1].first) {
            c.lines.back() = ',';
            c.lines += h[i].second + "\n";
            continue;
        }
        c.lines += h[i].first + ":" + h[i].second + "\n";
        if (!c.signed_.empty()) c.signed_ += ';';
        c.signed_ += h[i].first;
    }
    return c;
}

std::string scope(const SigningKey& key, const std::string& amz_date) {
    return amz_date.substr(0, 8) + "/" + key.region + "/" + key.service + "/aws4_request";
}

}  // namespace

std::string sha256_hex(std::string_view data) { return sha256(as_bytes(data)).hex(); }

std::string uri_encode(std::string_view s, bool keep_slash) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
    std::vector<std::pair<std::string, std::string>> q;
    for (const auto& [k, v] : query) q.emplace_back(uri_encode(k, false), uri_encode(v, false));
    std::sort(q.begin(), q.end());
    std::string out;
    for (const auto& [k, v] : q) {
        if (!out.empty()) out += '&';
        out += k + "=" + v;
    }
    return out;
}

std::string canonical_request(const RequestToSign& r) {
    CanonicalHeaders h = canonical_headers(r);
    return r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + canonical_query(r.query) +
           "\n" + h.lines + "\n" + h.signed_ + "\n" + r.payload_sha256;
}

std::string string_to_sign(const RequestToSign& r, const SigningKey& key,
                           const std::string& amz_date) {
    return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope(key, amz_date) + "\n" +
           sha256_hex(canonical_request(r));
}

std::string authorization(const RequestToSign& r, const SigningKey& key,
                          const std::string& amz_date) {
    std::string k = hmac_sha256("AWS4" + key.secret_access_key, amz_date.substr(0, 8));
    k = hmac_sha256(k, key.region);
    k = hmac_sha256(k, key.service);
    k = hmac_sha256(k, "aws4_request");
    const std::string sig = hmac_sha256(k, string_to_sign(r, key, amz_date));
    return "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + scope(key, amz_date) +
           ",SignedHeaders=" + canonical_headers(r).signed_ + ",Signature=" + to_hex(as_bytes(sig));
}

}  // namespace strata::s3
