#include "store/base/crash_point.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace strata {

void crash_point(const char* name) {
    static const char* spec = std::getenv("STRATA_TEST_CRASH_AT");
    if (!spec) return;
    static std::mutex mu;
    static int arrivals = 0;
    std::string s = spec;
    std::string want = s.substr(0, s.find(':'));
    int n = s.find(':') == std::string::npos ? 1 : std::atoi(s.c_str() + s.find(':') + 1);
    if (want != name) return;
    std::lock_guard lock(mu);
    if (++arrivals >= n) ::kill(::getpid(), SIGKILL);
}

void pause_point(const char* name) {
    static const char* spec = std::getenv("STRATA_TEST_PAUSE_AT");
    if (!spec) return;
    std::string s = spec;
    auto colon = s.find(':');
    if (s.substr(0, colon) != name) return;
    static std::once_flag first;
    std::call_once(first, [&] {
        int ms = colon == std::string::npos ? 1000 : std::atoi(s.c_str() + colon + 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    });
}

}  // namespace strata
