// HTTP(S) requests through libcurl, for the S3 store. Connections are kept and reused (a pool of
// easy handles); TLS verifies the server's certificate against the system's store, or against
// the CA file given. Thread-safe: any thread may perform requests at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/base/bytes.h"

namespace strata::s3 {

struct HttpRequest {
    std::string method;  // GET, PUT, HEAD, DELETE, POST
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    // The body: `body` in memory, or `body_size` bytes read from `body_fd` at offset 0.
    ByteView body;
    int body_fd = -1;
    std::uint64_t body_size = 0;
};

struct HttpResponse {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names in lower case
};

struct HttpOptions {
    std::string ca_file;                // "" for the system's certificate store
    long connect_timeout_seconds = 10;  // a store that does not answer fails fast, then retries
    // A transfer that moves less than 1 byte/s for this long is given up (a stalled connection).
    long stall_seconds = 60;
};

class HttpClient {
  public:
    explicit HttpClient(HttpOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Performs the request and returns whatever the server answered (any status). Transport
    // failures throw Io with an errno that says what kind: ECONNREFUSED (nothing listens),
    // ETIMEDOUT, EHOSTUNREACH (name does not resolve), ECONNRESET (connection lost mid-way),
    // EPROTO (TLS: certificate not trusted, handshake failed), EIO otherwise; the message names
    // the URL and libcurl's words.
    HttpResponse perform(const HttpRequest& request);

  private:
    void* acquire();
    void release(void* handle);

    HttpOptions options_;
    std::mutex mu_;
    std::vector<void*> idle_;  // easy handles (http_client.cpp's Handle) with their connections
};

}  // namespace strata::s3
