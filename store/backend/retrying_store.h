// A decorator: retries what fails for a passing reason (an object store answering 503 or
// SlowDown, a connection refused while it restarts, a connection cut mid-transfer), with
// exponential backoff, around any ObjectStore. Errors that another try cannot change (absent
// objects, damaged data, refused credentials) pass through at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "store/backend/object_store.h"

namespace strata {

struct RetryPolicy {
    // Tries in all, the first included. With 0.5 s doubling up to 16 s, ten tries span about
    // 1.5 minutes: longer than an object store takes to restart, short enough that a store
    // that is gone fails an ingest within a couple of minutes.
    int attempts = 10;
    std::chrono::milliseconds first_delay{500};
    std::chrono::milliseconds max_delay{16000};
    // Each wait is drawn from [delay/2, delay] so that hosts that failed together (a store
    // restarting) do not all come back at the same instant.
    bool jitter = true;
    // Hears each retry (the error, which names the object; the try that failed; the wait before
    // the next), so a user sees why a command is slow; may be empty.
    std::function<void(const std::string& error, int attempt, std::chrono::milliseconds wait)>
        on_retry;
    // Waits; tests replace it so they do not sleep.
    std::function<void(std::chrono::milliseconds)> sleep;
};

// Whether `e` is worth another try (Io with EAGAIN, ECONNREFUSED, ECONNRESET, ETIMEDOUT,
// EHOSTUNREACH, ENETUNREACH, EPIPE).
bool is_transient(const std::exception& e);

// Wraps `inner`. The final failure is the last error, its message extended with how many tries
// were made.
std::unique_ptr<ObjectStore> open_retrying_store(std::unique_ptr<ObjectStore> inner,
                                                 RetryPolicy policy = {});

}  // namespace strata
