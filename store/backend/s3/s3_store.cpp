#include "store/backend/s3/s3_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "store/backend/s3/http_client.h"
#include "store/backend/s3/s3_xml.h"
#include "store/backend/s3/sigv4.h"
#include "store/base/hash.h"
#include "store/base/unique_fd.h"

namespace strata::s3 {
namespace {

// Keys a list page asks for: S3's maximum.
constexpr int kListPageKeys = 1000;

std::string amz_now() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

using Query = std::vector<std::pair<std::string, std::string>>;
using Headers = std::vector<std::pair<std::string, std::string>>;

// The requests, signed, and what their answers mean.
class S3Client {
  public:
    explicit S3Client(const S3StoreOptions& o)
        : location_(o.location),
          credentials_(o.credentials),
          http_(HttpOptions{o.ca_file}),
          key_{o.credentials.access_key_id, o.credentials.secret_access_key, o.credentials.region,
               "s3"} {}

    const S3Location& location() const { return location_; }
    std::string url_of(const std::string& name) const { return location_.url() + "/" + name; }

    // Sends one signed request for the object `name` (or, with `bucket_level`, for the bucket)
    // and returns the answer, whatever its status.
    HttpResponse send(const std::string& method, const std::string& name, bool bucket_level,
                      const Query& query, Headers headers, ByteView body = {}, int body_fd = -1,
                      std::uint64_t body_size = 0, const std::string& body_sha = "") {
        const std::string path =
            bucket_level ? location_.bucket_path() : location_.object_path(name);
        const std::string date = amz_now();
        std::string payload = body_sha;
        if (payload.empty()) payload = body.empty() ? kEmptyPayloadSha256 : sha256(body).hex();
        headers.emplace_back("host", location_.host_header());
        headers.emplace_back("x-amz-date", date);
        headers.emplace_back("x-amz-content-sha256", payload);
        if (!credentials_.session_token.empty())
            headers.emplace_back("x-amz-security-token", credentials_.session_token);
        RequestToSign to_sign{method, path, query, headers, payload};
        const std::string auth = authorization(to_sign, key_, date);
        headers.emplace_back("authorization", auth);
        HttpRequest r;
        r.method = method;
        r.url = location_.endpoint() + path;
        if (!query.empty()) r.url += "?" + canonical_query(query);
        r.headers = std::move(headers);
        r.body = body;
        r.body_fd = body_fd;
        r.body_size = body_size;
        return http_.perform(r);
    }

    // Throws what a failed answer means for `what` (an object's URL, or the bucket).
    [[noreturn]] void fail(const HttpResponse& r, const std::string& what) const {
        auto body = parse_error_body(r.body);
        const std::string code = body ? body->code : "";
        std::string said = "HTTP " + std::to_string(r.status);
        if (body) said += " " + body->code + (body->message.empty() ? "" : ": " + body->message);
        if (code == "NoSuchBucket")
            throw_not_found("bucket " + location_.bucket + " does not exist at " +
                            location_.endpoint() + " (" + said + "); `strata init " +
                            location_.url() + "` creates it");
        if (r.status == 404) throw_not_found(what + " is missing (" + said + ")");
        if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId")
            throw StoreError(StoreError::Kind::Io,
                             "the object store at " + location_.endpoint() +
                                 " refused the credentials from " + credentials_.source +
                                 " (access key " + credentials_.access_key_id + "; " + said +
                                 "); check the access key and secret key",
                             EACCES);
        if (r.status == 401 || r.status == 403)
            throw StoreError(StoreError::Kind::Io,
                             "permission denied on " + what + " (" + said +
                                 "); the credentials from " + credentials_.source +
                                 " (access key " + credentials_.access_key_id +
                                 ") may not use bucket " + location_.bucket,
                             EACCES);
        if (r.status == 416) throw_corruption(what + ": shorter than expected (" + said + ")");
        if (r.status >= 500 || r.status == 429 || r.status == 408 || code == "SlowDown")
            throw StoreError(StoreError::Kind::Io,
                             "the object store failed on " + what + " (" + said + ")", EAGAIN);
        throw StoreError(StoreError::Kind::Io,
                         "the object store refused " + what + " (" + said + ")", EIO);
    }

  private:
    S3Location location_;
    AwsCredentials credentials_;
    HttpClient http_;
    SigningKey key_;
};

// Spools to an unlinked file; commit sends it in one PUT. A failed commit may be repeated (the
// retrying store does): the spool stays until the writer is destroyed.
class S3ObjectWriter final : public ObjectWriter {
  public:
    S3ObjectWriter(S3Client& client, const std::string& spool_dir) : client_(client) {
        fd_ = UniqueFd(::open(spool_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
        if (fd_.get() < 0) {
            // Not every file system has O_TMPFILE: a named file, unlinked at once.
            std::string templ = spool_dir + "/strata-upload-XXXXXX";
            fd_ = UniqueFd(::mkostemp(templ.data(), O_CLOEXEC));
            if (fd_.get() < 0) throw_io("create a spool file for an upload in " + spool_dir, errno);
            ::unlink(templ.c_str());
        }
        spool_dir_ = spool_dir;
    }
    void append(ByteView data) override {
        std::size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(fd_.get(), data.data() + done, data.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_io("write a spool file for an upload in " + spool_dir_, errno);
            done += static_cast<std::size_t>(n);
        }
        hash_.update(data);
        size_ += data.size();
    }
    std::uint64_t size() const override { return size_; }
    void commit(const std::string& name) override {
        if (!hex_) hex_ = hash_.finish().hex();
        HttpResponse r = client_.send("PUT", name, false, {}, {}, {}, fd_.get(), size_, *hex_);
        if (r.status != 200) client_.fail(r, client_.url_of(name));
    }

  private:
    S3Client& client_;
    UniqueFd fd_;
    std::string spool_dir_;
    Sha256Stream hash_;
    std::optional<std::string> hex_;
    std::uint64_t size_ = 0;
};

class S3Store final : public ObjectStore {
  public:
    explicit S3Store(const S3StoreOptions& o) : client_(o), spool_dir_(o.spool_dir) {
        if (spool_dir_.empty()) {
            const char* tmp = std::getenv("TMPDIR");
            spool_dir_ = tmp && *tmp ? tmp : "/tmp";
        }
    }

    std::unique_ptr<ObjectWriter> create() override {
        return std::make_unique<S3ObjectWriter>(client_, spool_dir_);
    }

    void put(const std::string& name, ByteView data) override {
        HttpResponse r = client_.send("PUT", name, false, {}, {}, data);
        if (r.status != 200) client_.fail(r, client_.url_of(name));
    }

    Bytes read(const std::string& name, std::uint64_t offset, std::size_t len) override {
        if (len == 0) {
            size(name);  // absent objects still throw NotFound
            return {};
        }
        HttpResponse r = client_.send("GET", name, false, {},
                                      {{"range", "bytes=" + std::to_string(offset) + "-" +
                                                     std::to_string(offset + len - 1)}});
        if (r.status != 206 && r.status != 200) client_.fail(r, client_.url_of(name));
        std::string_view got = r.body;
        if (r.status == 200) got = offset < got.size() ? got.substr(offset) : std::string_view{};
        if (got.size() < len)
            throw_corruption(client_.url_of(name) + ": shorter than expected (truncated?)");
        return Bytes(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(len));
    }

    Bytes read_all(const std::string& name) override {
        HttpResponse r = client_.send("GET", name, false, {}, {});
        if (r.status != 200) client_.fail(r, client_.url_of(name));
        auto it = r.headers.find("content-length");
        if (it != r.headers.end() && it->second != std::to_string(r.body.size()))
            throw_corruption(client_.url_of(name) + ": shorter than expected (connection cut?)");
        return Bytes(r.body.begin(), r.body.end());
    }

    std::uint64_t size(const std::string& name) override {
        HttpResponse r = client_.send("HEAD", name, false, {}, {});
        if (r.status != 200) client_.fail(r, client_.url_of(name));
        auto it = r.headers.find("content-length");
        if (it == r.headers.end())
            throw_corruption(client_.url_of(name) + ": the object store gave no size");
        return std::stoull(it->second);
    }

    bool exists(const std::string& name) override {
        HttpResponse r = client_.send("HEAD", name, false, {}, {});
        if (r.status == 404) return false;
        if (r.status != 200) client_.fail(r, client_.url_of(name));
        return true;
    }

    std::vector<ObjectInfo> list(const std::string& prefix) override {
        const S3Location& l = client_.location();
        const std::string strip = l.prefix.empty() ? "" : l.prefix + "/";
        const std::string folder = l.key_of(prefix) + (prefix.empty() ? "" : "/");
        std::vector<ObjectInfo> out;
        std::string token;
        do {
            Query q = {{"list-type", "2"},
                       {"prefix", prefix.empty() ? strip : folder},
                       {"max-keys", std::to_string(kListPageKeys)}};
            if (!token.empty()) q.emplace_back("continuation-token", token);
            HttpResponse r = client_.send("GET", "", true, q, {});
            if (r.status != 200) client_.fail(r, l.url() + "/" + prefix + " (listing)");
            ListPage page = parse_list_page(r.body);
            for (auto& o : page.objects) {
                if (o.key.compare(0, strip.size(), strip) != 0) continue;
                out.push_back({o.key.substr(strip.size()), o.size, o.mtime});
            }
            token = page.truncated ? page.next_token : "";
        } while (!token.empty());
        std::sort(out.begin(), out.end(),
                  [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
        return out;
    }

    void remove(const std::string& name) override {
        HttpResponse r = client_.send("DELETE", name, false, {}, {});
        if (r.status != 204 && r.status != 200 && r.status != 404)
            client_.fail(r, client_.url_of(name));
    }

    // A PUT is all or nothing and spools are unlinked files: nothing partial is ever stored.
    void discard_partial_writes() override {}

  private:
    S3Client client_;
    std::string spool_dir_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_s3_store(S3StoreOptions options) {
    return std::make_unique<S3Store>(options);
}

void create_bucket_if_missing(const S3StoreOptions& options) {
    S3Client client(options);
    HttpResponse head = client.send("HEAD", "", true, {}, {});
    if (head.status == 200) return;
    if (head.status != 404) client.fail(head, "bucket " + options.location.bucket);
    HttpResponse r = client.send("PUT", "", true, {}, {});
    if (r.status == 200) return;
    auto body = parse_error_body(r.body);
    if (body && body->code == "BucketAlreadyOwnedByYou") return;
    client.fail(r, "bucket " + options.location.bucket + " (creating it)");
}

}  // namespace strata::s3
