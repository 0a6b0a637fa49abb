#include "store/backend/s3/s3_xml.h"

#include <expat.h>

#include <ctime>
#include <functional>
#include <memory>

#include "store/base/errors.h"

namespace strata::s3 {
namespace {

// Runs expat over `xml`, calling `on_text(path, text)` for every element's text, where path is
// the names of the open elements joined by '/' ("ListBucketResult/Contents/Key"), and
// `on_end(path)` when an element closes. Returns false if the document is not well-formed.
struct ElementWalk {
    std::function<void(const std::string& path, const std::string& text)> on_text;
    std::function<void(const std::string& path)> on_end;
    std::vector<std::string> open;
    std::string text;

    std::string path() const {
        std::string p;
        for (const auto& e : open) p += (p.empty() ? "" : "/") + e;
        return p;
    }

    bool run(std::string_view xml) {
        std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(
            XML_ParserCreate("UTF-8"), &XML_ParserFree);
        if (!parser) throw std::bad_alloc();
        XML_SetUserData(parser.get(), this);
        XML_SetElementHandler(
            parser.get(),
            [](void* self, const XML_Char* name, const XML_Char**) {
                auto& w = *static_cast<ElementWalk*>(self);
                std::string n = name;
                // S3 documents use a default namespace, so names are plain; a prefixed one
                // (s3:Key) counts by its local part.
                if (auto c = n.rfind(':'); c != std::string::npos) n = n.substr(c + 1);
                w.open.push_back(n);
                w.text.clear();
            },
            [](void* self, const XML_Char*) {
                auto& w = *static_cast<ElementWalk*>(self);
                const std::string p = w.path();
                if (w.on_text) w.on_text(p, w.text);
                if (w.on_end) w.on_end(p);
                w.text.clear();
                if (!w.open.empty()) w.open.pop_back();
            });
        XML_SetCharacterDataHandler(parser.get(), [](void* self, const XML_Char* s, int len) {
            static_cast<ElementWalk*>(self)->text.append(s, static_cast<std::size_t>(len));
        });
        return XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE) ==
               XML_STATUS_OK;
    }
};

}  // namespace

std::int64_t parse_iso8601(const std::string& text) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) return 0;
    return static_cast<std::int64_t>(::timegm(&tm));
}

ListPage parse_list_page(std::string_view xml) {
    ListPage page;
    ListedObject current;
    bool have_key = false, have_size = false;
    std::string problem;
    ElementWalk walk;
    walk.on_text = [&](const std::string& path, const std::string& text) {
        if (path == "ListBucketResult/IsTruncated")
            page.truncated = text == "true";
        else if (path == "ListBucketResult/NextContinuationToken")
            page.next_token = text;
        else if (path == "ListBucketResult/Contents/Key")
            current.key = text, have_key = true;
        else if (path == "ListBucketResult/Contents/LastModified")
            current.mtime = parse_iso8601(text);
        else if (path == "ListBucketResult/Contents/Size") {
            try {
                std::size_t used = 0;
                current.size = std::stoull(text, &used);
                have_size = used == text.size();
            } catch (const std::exception&) {
                have_size = false;
            }
        }
    };
    walk.on_end = [&](const std::string& path) {
        if (path != "ListBucketResult/Contents") return;
        if (!have_key || !have_size) problem = "an entry without a key or a size";
        page.objects.push_back(std::move(current));
        current = {};
        have_key = have_size = false;
    };
    if (!walk.run(xml)) throw_corruption("malformed listing from the object store (not XML)");
    if (walk.open.size() > 0 || !problem.empty())
        throw_corruption("malformed listing from the object store: " +
                         (problem.empty() ? std::string("unfinished document") : problem));
    if (page.truncated && page.next_token.empty())
        throw_corruption(
            "malformed listing from the object store: truncated without a continuation token");
    return page;
}

std::optional<ErrorBody> parse_error_body(std::string_view xml) {
    if (xml.find("<Error") == std::string_view::npos) return std::nullopt;
    ErrorBody body;
    bool seen = false;
    ElementWalk walk;
    walk.on_text = [&](const std::string& path, const std::string& text) {
        if (path == "Error/Code") body.code = text, seen = true;
        if (path == "Error/Message") body.message = text;
    };
    if (!walk.run(xml) || !seen) return std::nullopt;
    return body;
}

}  // namespace strata::s3
