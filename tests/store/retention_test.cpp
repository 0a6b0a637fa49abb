// Retention policy: fixed timestamps, "now" injected, and the local calendar chosen through TZ
// (POSIX zone strings, so no tz database is needed).
#include "store/maintenance/retention.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <set>

namespace strata {
namespace {

// Sets TZ for the test's lifetime and restores the previous value.
class ScopedTimeZone {
public:
    explicit ScopedTimeZone(const char* tz) {
        const char* old = std::getenv("TZ");
        if (old) old_ = old;
        had_ = old != nullptr;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~ScopedTimeZone() {
        if (had_) ::setenv("TZ", old_.c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }

private:
    std::string old_;
    bool had_ = false;
};

constexpr const char* kUtc = "UTC0";
// Central Europe: UTC+1, UTC+2 in summer (last Sunday of March to last Sunday of October).
constexpr const char* kCentralEurope = "CET-1CEST,M3.5.0,M10.5.0/3";
constexpr std::int64_t kHour = 3600, kDay = 86400;

// Unix seconds of a UTC calendar time.
std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return static_cast<std::int64_t>(timegm(&tm));
}

Snapshot snap(std::int64_t t, const std::string& host = "h", std::vector<std::string> tags = {},
              std::vector<std::string> paths = {"/data"}) {
    Snapshot s;
    s.rec.time_sec = t;
    s.rec.host = host;
    s.rec.tags = std::move(tags);
    s.rec.paths = std::move(paths);
    s.id = sha256(as_bytes(host + std::to_string(t) + (s.rec.tags.empty() ? "" : s.rec.tags[0])));
    return s;
}

std::set<std::int64_t> kept_times(const std::vector<RetentionGroup>& groups) {
    std::set<std::int64_t> out;
    for (const auto& g : groups)
        for (const auto& k : g.keep) out.insert(k.snapshot.rec.time_sec);
    return out;
}

std::vector<std::string> reasons_of(const std::vector<RetentionGroup>& groups, std::int64_t t) {
    for (const auto& g : groups)
        for (const auto& k : g.keep)
            if (k.snapshot.rec.time_sec == t) return k.reasons;
    return {};
}

std::size_t removed(const std::vector<RetentionGroup>& groups) {
    std::size_t n = 0;
    for (const auto& g : groups) n += g.remove.size();
    return n;
}

const std::int64_t kFarFuture = utc(2100, 1, 1);

TEST(Retention, KeepLastKeepsTheNewest) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    for (int i = 0; i < 10; ++i) all.push_back(snap(utc(2024, 5, 1) + i * kHour));
    RetentionPolicy p;
    p.last = 3;
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(kept_times(g), (std::set<std::int64_t>{utc(2024, 5, 1, 7), utc(2024, 5, 1, 8),
                                                      utc(2024, 5, 1, 9)}));
    EXPECT_EQ(removed(g), 7u);
    EXPECT_EQ(reasons_of(g, utc(2024, 5, 1, 9)), std::vector<std::string>{"last snapshot"});
    // Newest first in both lists.
    EXPECT_EQ(g[0].keep.front().snapshot.rec.time_sec, utc(2024, 5, 1, 9));
    EXPECT_EQ(g[0].remove.front().rec.time_sec, utc(2024, 5, 1, 6));
}

TEST(Retention, KeepDailyTakesTheNewestOfEachDayWithSnapshots) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    // Five days with two snapshots each (09:00 and 18:00), and a gap day without any.
    for (int d : {1, 2, 3, 5, 6})
        for (int h : {9, 18}) all.push_back(snap(utc(2024, 3, d, h)));
    RetentionPolicy p;
    p.daily = 3;
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    // The three newest days that HAVE snapshots: 6, 5 and 3 (restic semantics, not a window).
    EXPECT_EQ(kept_times(g), (std::set<std::int64_t>{utc(2024, 3, 6, 18), utc(2024, 3, 5, 18),
                                                      utc(2024, 3, 3, 18)}));
    EXPECT_EQ(removed(g), 7u);
}

TEST(Retention, OldestIsKeptWhileARuleHasCountsLeft) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    for (int d = 1; d <= 3; ++d)
        for (int h : {9, 18}) all.push_back(snap(utc(2024, 3, d, h)));
    RetentionPolicy p;
    p.daily = 10;
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    EXPECT_EQ(kept_times(g), (std::set<std::int64_t>{utc(2024, 3, 3, 18), utc(2024, 3, 2, 18),
                                                      utc(2024, 3, 1, 18), utc(2024, 3, 1, 9)}));
    EXPECT_EQ(reasons_of(g, utc(2024, 3, 1, 9)),
              std::vector<std::string>{"daily snapshot (oldest)"});
}

TEST(Retention, DaysAreLocalCalendarDays) {
    // 23:30 UTC on Jan 1 is already Jan 2 in Central Europe.
    const std::int64_t t0 = utc(2023, 12, 31, 12), t1 = utc(2024, 1, 1, 23, 30), t2 = utc(2024, 1, 2, 10);
    std::vector<Snapshot> all{snap(t0), snap(t1), snap(t2)};
    RetentionPolicy p;
    p.daily = 2;
    {
        ScopedTimeZone tz(kUtc);
        EXPECT_EQ(kept_times(apply_retention(all, p, GroupBy{}, kFarFuture)),
                  (std::set<std::int64_t>{t1, t2}));
    }
    {
        ScopedTimeZone tz(kCentralEurope);
        EXPECT_EQ(kept_times(apply_retention(all, p, GroupBy{}, kFarFuture)),
                  (std::set<std::int64_t>{t0, t2}));
    }
}

TEST(Retention, WeeksAreIsoWeeks) {
    ScopedTimeZone tz(kUtc);
    // Sun 2024-12-29 is in ISO week 2024-W52; Mon 2024-12-30 and Sun 2025-01-05 in 2025-W01.
    const std::int64_t sun = utc(2024, 12, 29, 12), mon = utc(2024, 12, 30, 12), next_sun = utc(2025, 1, 5, 12);
    const std::int64_t older = utc(2024, 12, 20, 12);
    std::vector<Snapshot> all{snap(older), snap(sun), snap(mon), snap(next_sun)};
    RetentionPolicy p;
    p.weekly = 2;
    EXPECT_EQ(kept_times(apply_retention(all, p, GroupBy{}, kFarFuture)),
              (std::set<std::int64_t>{next_sun, sun}));
}

TEST(Retention, MonthlyAndYearlyCombineAndListEveryReason) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    for (int y = 2020; y <= 2023; ++y)
        for (int m = 1; m <= 12; ++m) all.push_back(snap(utc(y, m, 15)));
    RetentionPolicy p;
    p.monthly = 6;
    p.yearly = 3;
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    std::set<std::int64_t> want;
    for (int m = 7; m <= 12; ++m) want.insert(utc(2023, m, 15));
    want.insert(utc(2022, 12, 15));
    want.insert(utc(2021, 12, 15));
    EXPECT_EQ(kept_times(g), want);
    EXPECT_EQ(reasons_of(g, utc(2023, 12, 15)),
              (std::vector<std::string>{"monthly snapshot", "yearly snapshot"}));
    EXPECT_EQ(reasons_of(g, utc(2022, 12, 15)), std::vector<std::string>{"yearly snapshot"});
}

TEST(Retention, UnlimitedCountKeepsOnePerBucket) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    for (int d = 1; d <= 20; ++d)
        for (int h : {1, 2, 3}) all.push_back(snap(utc(2024, 6, d, h)));
    RetentionPolicy p;
    p.daily = RetentionPolicy::kAll;
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    EXPECT_EQ(g[0].keep.size(), 21u);  // the newest of each of the 20 days, and the oldest
    EXPECT_EQ(removed(g), 39u);
}

TEST(Retention, KeepWithinCountsFromTheNewestSnapshotNotFromNow) {
    ScopedTimeZone tz(kUtc);
    // Backups stopped years ago: keep-within must not remove them all.
    std::vector<Snapshot> all;
    for (int d = 1; d <= 10; ++d) all.push_back(snap(utc(2020, 1, d, 12)));
    RetentionPolicy p;
    p.within = parse_calendar_span("3d");
    auto g = apply_retention(all, p, GroupBy{}, utc(2024, 1, 1));
    // Newest is Jan 10 12:00; cutoff Jan 7 12:00 (exclusive).
    EXPECT_EQ(kept_times(g), (std::set<std::int64_t>{utc(2020, 1, 8, 12), utc(2020, 1, 9, 12),
                                                      utc(2020, 1, 10, 12)}));
    EXPECT_EQ(reasons_of(g, utc(2020, 1, 9, 12)), std::vector<std::string>{"within 3d"});
}

TEST(Retention, SnapshotsInTheFutureDoNotAnchorKeepWithin) {
    ScopedTimeZone tz(kUtc);
    const std::int64_t now = utc(2024, 1, 10);
    std::vector<Snapshot> all{snap(utc(2024, 1, 1)), snap(utc(2024, 1, 8)), snap(utc(2024, 1, 9)),
                              snap(utc(2030, 1, 1))};  // a clock that was wrong once
    RetentionPolicy p;
    p.within = parse_calendar_span("2d");
    auto kept = kept_times(apply_retention(all, p, GroupBy{}, now));
    // The anchor is Jan 9 (newest not after now), so Jan 8 stays; the future one is after the
    // cutoff, so it stays too; Jan 1 goes.
    EXPECT_EQ(kept, (std::set<std::int64_t>{utc(2024, 1, 8), utc(2024, 1, 9), utc(2030, 1, 1)}));
}

TEST(Retention, KeepWithinDailyIsDailyForNDays) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    for (int d = 1; d <= 10; ++d)
        for (int h : {6, 18}) all.push_back(snap(utc(2024, 4, d, h)));
    RetentionPolicy p;
    p.within_daily = parse_calendar_span("5d");
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    // Newest Apr 10 18:00; cutoff Apr 5 18:00 (exclusive): the newest of Apr 6..10.
    std::set<std::int64_t> want;
    for (int d = 6; d <= 10; ++d) want.insert(utc(2024, 4, d, 18));
    EXPECT_EQ(kept_times(g), want);
    EXPECT_EQ(reasons_of(g, utc(2024, 4, 8, 18)), std::vector<std::string>{"daily within 5d"});
}

TEST(Retention, KeepTagNeedsEveryTagOfOneList) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all{snap(utc(2024, 1, 1), "h", {"release"}),
                              snap(utc(2024, 1, 2), "h", {"release", "v2"}),
                              snap(utc(2024, 1, 3), "h", {"nightly"}),
                              snap(utc(2024, 1, 4), "h", {"v2"})};
    RetentionPolicy p;
    p.tags = {{"release", "v2"}, {"nightly"}};
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    EXPECT_EQ(kept_times(g), (std::set<std::int64_t>{utc(2024, 1, 2), utc(2024, 1, 3)}));
    EXPECT_EQ(reasons_of(g, utc(2024, 1, 2)), std::vector<std::string>{"tag release,v2"});
}

TEST(Retention, GroupsAreIndependent) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all;
    for (int i = 0; i < 4; ++i) {
        all.push_back(snap(utc(2024, 1, 1 + i), "alpha"));
        all.push_back(snap(utc(2024, 1, 1 + i, 1), "beta"));
        all.push_back(snap(utc(2024, 1, 1 + i, 2), "beta", {}, {"/other"}));
    }
    RetentionPolicy p;
    p.last = 1;
    auto by_host_paths = apply_retention(all, p, GroupBy{}, kFarFuture);
    ASSERT_EQ(by_host_paths.size(), 3u);
    for (const auto& g : by_host_paths) EXPECT_EQ(g.keep.size(), 1u);
    EXPECT_EQ(by_host_paths[0].host, "alpha");
    auto by_host = apply_retention(all, p, parse_group_by("host"), kFarFuture);
    ASSERT_EQ(by_host.size(), 2u);
    EXPECT_TRUE(by_host[1].paths.empty());
    auto one = apply_retention(all, p, parse_group_by(""), kFarFuture);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].keep.size(), 1u);
    EXPECT_EQ(one[0].remove.size(), 11u);
}

TEST(Retention, HourlyBucketsFollowLocalHoursAcrossDaylightSaving) {
    ScopedTimeZone tz(kCentralEurope);
    // 2024-10-27: clocks go back from 03:00 CEST to 02:00 CET. 00:30 UTC is 02:30 CEST, 01:30
    // UTC is 02:30 CET: the same local hour, so one bucket (as restic, which buckets by the
    // wall clock).
    const std::int64_t before = utc(2024, 10, 26, 12), a = utc(2024, 10, 27, 0, 30), b = utc(2024, 10, 27, 1, 30);
    std::vector<Snapshot> all{snap(before), snap(a), snap(b)};
    RetentionPolicy p;
    p.hourly = 2;
    EXPECT_EQ(kept_times(apply_retention(all, p, GroupBy{}, kFarFuture)),
              (std::set<std::int64_t>{b, before}));
}

TEST(Retention, EmptyPolicyKeepsEverything) {
    ScopedTimeZone tz(kUtc);
    std::vector<Snapshot> all{snap(utc(2024, 1, 1)), snap(utc(2024, 1, 2))};
    RetentionPolicy p;
    EXPECT_TRUE(p.empty());
    auto g = apply_retention(all, p, GroupBy{}, kFarFuture);
    EXPECT_EQ(g[0].keep.size(), 2u);
    EXPECT_EQ(removed(g), 0u);
}

TEST(CalendarSpan, ParsesUnitsAndRejectsNonsense) {
    auto s = parse_calendar_span("1y6m2w3d12h");
    EXPECT_EQ(s.years, 1);
    EXPECT_EQ(s.months, 6);
    EXPECT_EQ(s.days, 17);
    EXPECT_EQ(s.hours, 12);
    EXPECT_EQ(s.str(), "1y6m17d12h");
    EXPECT_EQ(parse_calendar_span("30d").days, 30);
    EXPECT_EQ(parse_calendar_span("2w").days, 14);
    for (const char* bad : {"", "d", "30", "3x", "1d1d", "-1d", "1.5d", "9999999d", "1d 2h"})
        EXPECT_THROW(parse_calendar_span(bad), StoreError) << bad;
    EXPECT_THROW(parse_group_by("host,color"), StoreError);
}

TEST(CalendarSpan, SubtractsInTheLocalCalendar) {
    ScopedTimeZone tz(kUtc);
    // Mar 31 minus one month is "Feb 31", which normalizes to Mar 2 in a leap year.
    EXPECT_EQ(subtract_span(utc(2024, 3, 31, 10), parse_calendar_span("1m")), utc(2024, 3, 2, 10));
    EXPECT_EQ(subtract_span(utc(2024, 3, 1), parse_calendar_span("1y")), utc(2023, 3, 1));
    EXPECT_EQ(subtract_span(utc(2024, 3, 1, 5), parse_calendar_span("1d6h")), utc(2024, 2, 28, 23));
    // Across the spring change in Central Europe a day is 23 real hours: days follow the calendar.
    ScopedTimeZone cet(kCentralEurope);
    const std::int64_t after = utc(2024, 3, 31, 10);  // 12:00 CEST
    EXPECT_EQ(after - subtract_span(after, parse_calendar_span("1d")), 23 * kHour);
    EXPECT_EQ(after - subtract_span(after, parse_calendar_span("24h")), kDay);
}

}  // namespace
}  // namespace strata
