#include "store/backend/s3/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>

#include "store/base/errors.h"

namespace strata::s3 {
namespace {

// Idle connections kept per client: enough for the mount's readers and ingest's writers.
constexpr std::size_t kMaxIdleHandles = 16;

void global_init() {
    static const bool done = [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw std::runtime_error("libcurl failed to initialize");
        return true;
    }();
    (void)done;
}

struct Transfer {
    const HttpRequest* request;
    HttpResponse* response;
    std::uint64_t sent = 0;
    int read_errno = 0;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<Transfer*>(user)->response->body.append(data, size * n);
    return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        auto b = value.find_first_not_of(" \t");
        auto e = value.find_last_not_of(" \t\r\n");
        value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
        static_cast<Transfer*>(user)->response->headers[name] = value;
    }
    return size * n;
}

// Feeds the request body to libcurl, from memory or from the file.
std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const HttpRequest& r = *t.request;
    const std::uint64_t total = r.body_fd >= 0 ? r.body_size : r.body.size();
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size * n, total - t.sent));
    if (want == 0) return 0;
    if (r.body_fd < 0) {
        std::copy_n(r.body.data() + t.sent, want, buffer);
    } else {
        ssize_t got;
        do {
            got = ::pread(r.body_fd, buffer, want, static_cast<off_t>(t.sent));
        } while (got < 0 && errno == EINTR);
        if (got <= 0) {
            t.read_errno = got < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        want = static_cast<std::size_t>(got);
    }
    t.sent += want;
    return want;
}

// Rewinds the body when libcurl resends it (a redirect, a reused connection that had closed).
int on_seek(void* user, curl_off_t offset, int origin) {
    auto& t = *static_cast<Transfer*>(user);
    if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
    t.sent = static_cast<std::uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
}

int errno_of(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT:
            return ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
            return ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return EHOSTUNREACH;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
            return ECONNRESET;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
            return EPROTO;
        default:
            return EIO;
    }
}

}  // namespace

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) { global_init(); }

HttpClient::~HttpClient() {
    for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::acquire() {
    {
        std::lock_guard lock(mu_);
        if (!idle_.empty()) {
            void* h = idle_.back();
            idle_.pop_back();
            return h;
        }
    }
    CURL* h = curl_easy_init();
    if (!h) throw std::bad_alloc();
    return h;
}

void HttpClient::release(void* handle) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles)
        idle_.push_back(handle);
    else
        curl_easy_cleanup(static_cast<CURL*>(handle));
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
    CURL* h = static_cast<CURL*>(acquire());
    struct Returner {
        HttpClient* self;
        CURL* h;
        ~Returner() { self->release(h); }
    } returner{this, h};
    curl_easy_reset(h);  // keeps the connection cache, clears the previous request's options

    HttpResponse response;
    Transfer transfer{&request, &response};
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers)
        headers = curl_slist_append(headers, (name + ": " + value).c_str());
    // libcurl would otherwise add "Expect: 100-continue" to large PUTs and wait for an answer.
    headers = curl_slist_append(headers, "Expect:");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                            &curl_slist_free_all);

    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_seconds);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options_.stall_seconds);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);

    const bool has_body = request.body_fd >= 0 || !request.body.empty() || request.method == "PUT";
    if (request.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        const std::uint64_t size = request.body_fd >= 0 ? request.body_size : request.body.size();
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &transfer);
        if (request.method != "PUT")
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        if (transfer.read_errno)
            throw_io("read the data to send to " + request.url, transfer.read_errno);
        const std::string why = error[0] ? error : curl_easy_strerror(rc);
        throw StoreError(StoreError::Kind::Io,
                         request.method + " " + request.url + " failed: " + why, errno_of(rc));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace strata::s3
