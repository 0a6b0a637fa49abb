// Times as strata writes them for people and in names: UTC, ISO 8601, whole seconds.
#pragma once

#include <cstdint>
#include <string>

namespace strata {

// "2026-11-21T10:00:00Z" for `sec` seconds since the epoch; with `nsec`, given, the fraction
// goes before the Z ("2026-11-21T10:00:00.123456789Z").
std::string utc_time_text(std::int64_t sec);
std::string utc_time_text(std::int64_t sec, std::uint32_t nsec);

}  // namespace strata
