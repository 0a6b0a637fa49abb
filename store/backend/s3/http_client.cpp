#include "store/backend/s3/http_client.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
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

// An easy handle with the socket of its connection, which libcurl 7.88 does not tell during a
// transfer (CURLINFO_ACTIVESOCKET is -1 until it ends); learnt when the socket is made.
struct Handle {
    CURL* curl = nullptr;
    curl_socket_t socket = CURL_SOCKET_BAD;
};

int on_socket(void* user, curl_socket_t fd, curlsocktype) {
    static_cast<Handle*>(user)->socket = fd;
    return CURL_SOCKOPT_OK;
}

struct Transfer {
    const HttpRequest* request;
    HttpResponse* response;
    Handle* handle = nullptr;
    std::uint64_t sent = 0;
    int read_errno = 0;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<Transfer*>(user)->response->body.append(data, size * n);
    return size * n;
}

void ack_now(const Handle& handle);

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    std::string line(data, size * n);
    if (line == "\r\n") ack_now(*static_cast<Transfer*>(user)->handle);  // the headers are in
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

// Sends the ACK of what arrived so far now rather than after the delayed-ACK timer: setting
// TCP_QUICKACK flushes a pending ACK. Called when an answer's headers are in. A server that
// writes the headers and the body separately with Nagle on (radosgw's beast frontend) holds the
// body until that ACK, and on a reused connection, out of TCP's quick-ack mode, the kernel waits
// up to 40 ms to send it: measured here, 48 ms per small GET on a reused connection, 2 ms on a
// new one.
void ack_now(const Handle& handle) {
    if (handle.socket == CURL_SOCKET_BAD) return;
    int one = 1;
    ::setsockopt(handle.socket, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
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
    for (void* h : idle_) {
        curl_easy_cleanup(static_cast<Handle*>(h)->curl);
        delete static_cast<Handle*>(h);
    }
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
    auto h = std::make_unique<Handle>();
    h->curl = curl_easy_init();
    if (!h->curl) throw std::bad_alloc();
    return h.release();
}

void HttpClient::release(void* handle) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(handle);
    } else {
        curl_easy_cleanup(static_cast<Handle*>(handle)->curl);
        delete static_cast<Handle*>(handle);
    }
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
    Handle* handle = static_cast<Handle*>(acquire());
    struct Returner {
        HttpClient* self;
        Handle* h;
        ~Returner() { self->release(h); }
    } returner{this, handle};
    CURL* h = handle->curl;
    curl_easy_reset(h);  // keeps the connection cache, clears the previous request's options

    HttpResponse response;
    Transfer transfer{&request, &response, handle};
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
    curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_socket);
    curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, handle);

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
        std::string why = error[0] ? error : curl_easy_strerror(rc);
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_ISSUER_ERROR)
            why += "; the server's certificate is not trusted by " +
                   (options_.ca_file.empty() ? std::string("the system's certificate store")
                                             : options_.ca_file) +
                   " (for a private CA, give its certificate with --cacert FILE or the mount "
                   "option cacert=FILE)";
        else if (rc == CURLE_SSL_CACERT_BADFILE)
            why += "; the CA certificate file " + options_.ca_file +
                   " cannot be read or holds no PEM certificate";
        throw StoreError(StoreError::Kind::Io,
                         request.method + " " + request.url + " failed: " + why, errno_of(rc));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace strata::s3
