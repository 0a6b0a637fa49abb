// Runs a recursive walk of a directory tree on a thread whose stack is large enough for the
// deepest tree the format allows (format::kMaxTreeDepth levels), whatever the calling thread's
// stack is. The stack is reserved address space; only the pages a walk touches are used.
#pragma once

#include <pthread.h>

#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace strata {

// A walk level costs up to ~6 KiB of stack (ingest's, measured with gdb at 2,000 levels), so
// kMaxTreeDepth (4096) levels need ~24 MiB; 64 MiB leaves room for what each level calls.
// Sanitizer builds have frames several times larger (redzones): 4096 levels of restore overflowed
// the 8 MiB main stack under ASan, so they get four times as much.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr std::size_t kDeepWalkStack = 256u << 20;
#else
inline constexpr std::size_t kDeepWalkStack = 64u << 20;
#endif

// Calls `fn()` on a new thread with a `kDeepWalkStack` stack, waits for it, and returns its
// result or rethrows its exception on the calling thread.
template <typename Fn>
auto run_with_deep_stack(Fn&& fn) -> std::invoke_result_t<Fn&> {
    using R = std::invoke_result_t<Fn&>;
    struct Call {
        Fn& fn;
        std::optional<R> result;
        std::exception_ptr error;
        static void* run(void* self) {
            auto* c = static_cast<Call*>(self);
            try {
                c->result.emplace(c->fn());
            } catch (...) {
                c->error = std::current_exception();
            }
            return nullptr;
        }
    } call{fn, std::nullopt, nullptr};
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setstacksize(&attr, kDeepWalkStack);
    pthread_t thread;
    int rc = ::pthread_create(&thread, &attr, &Call::run, &call);
    ::pthread_attr_destroy(&attr);
    if (rc != 0)
        throw std::runtime_error(std::string("cannot start the walk thread: ") + std::strerror(rc));
    ::pthread_join(thread, nullptr);
    if (call.error) std::rethrow_exception(call.error);
    return std::move(*call.result);
}

}  // namespace strata
