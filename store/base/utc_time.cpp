#include "store/base/utc_time.h"

#include <cstdio>
#include <ctime>

namespace strata {
namespace {

std::string seconds_part(std::int64_t sec) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    char buf[64] = "?";
    if (gmtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

}  // namespace

std::string utc_time_text(std::int64_t sec) { return seconds_part(sec) + "Z"; }

std::string utc_time_text(std::int64_t sec, std::uint32_t nsec) {
    char ns[16];
    std::snprintf(ns, sizeof ns, ".%09u", nsec);
    return seconds_part(sec) + ns + "Z";
}

}  // namespace strata
