// Whether this test binary is built with AddressSanitizer (.ci/sanitizers asan). Its run is about
// memory errors, not scale or breadth: tests that repeat one code path many times (sweeps over
// damaged bytes, a million entries) do fewer repetitions there, each saying so.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define STRATA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRATA_TEST_ASAN 1
#endif
#endif

namespace strata::testing {
#ifdef STRATA_TEST_ASAN
inline constexpr bool kUnderAddressSanitizer = true;
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif
}  // namespace strata::testing
