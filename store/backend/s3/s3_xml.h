// The XML S3 answers with, read with expat: ListObjectsV2 pages and error bodies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::s3 {

struct ListedObject {
    std::string key;  // the full key in the bucket
    std::uint64_t size = 0;
    std::int64_t mtime = 0;  // LastModified, Unix seconds
};

struct ListPage {
    std::vector<ListedObject> objects;
    bool truncated = false;
    std::string next_token;  // NextContinuationToken, when truncated
};

// Parses a ListBucketResult (ListObjectsV2). Throws Corruption ("malformed listing: ...") for XML
// that does not parse or lacks what a page must have (a key, a size).
ListPage parse_list_page(std::string_view xml);

struct ErrorBody {
    std::string code;     // "NoSuchBucket", "AccessDenied", "SignatureDoesNotMatch", ...
    std::string message;  // the store's own words
};
// The <Error> document of a failed request; nullopt when `xml` is none (HEAD answers have no
// body, proxies answer with HTML).
std::optional<ErrorBody> parse_error_body(std::string_view xml);

// "2009-10-12T17:50:30.000Z" as Unix seconds; 0 if it does not parse.
std::int64_t parse_iso8601(const std::string& text);

}  // namespace strata::s3
