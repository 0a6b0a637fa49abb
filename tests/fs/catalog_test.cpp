// Snapshot naming, the at/ time notation, and mount option parsing: no kernel, no repository.
#include <gtest/gtest.h>

#include <ctime>

#include "fs/mount_options.h"
#include "fs/snapshot_catalog.h"
#include "store/base/errors.h"

namespace strata::fs {
namespace {

std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

Snapshot snap(std::int64_t sec, const std::string& host, std::vector<std::string> tags = {},
              std::uint8_t id_byte = 0, std::uint32_t nsec = 0) {
    Snapshot s;
    s.id.bytes[0] = id_byte;
    s.id.bytes[31] = static_cast<std::uint8_t>(sec & 0xff);
    s.rec.time_sec = sec;
    s.rec.time_nsec = nsec;
    s.rec.host = host;
    s.rec.tags = std::move(tags);
    return s;
}

TEST(ParseMoment, AcceptsEveryPrecisionWithOptionalZ) {
    EXPECT_EQ(parse_moment("2026-11-01"), utc(2026, 11, 1));
    EXPECT_EQ(parse_moment("2026-11-01Z"), utc(2026, 11, 1));
    EXPECT_EQ(parse_moment("2026-11-01T12"), utc(2026, 11, 1, 12));
    EXPECT_EQ(parse_moment("2026-11-01T12:00"), utc(2026, 11, 1, 12));
    EXPECT_EQ(parse_moment("2026-11-01T12:34Z"), utc(2026, 11, 1, 12, 34));
    EXPECT_EQ(parse_moment("2026-11-01T12:34:56"), utc(2026, 11, 1, 12, 34, 56));
    EXPECT_EQ(parse_moment("2026-11-01T12:34:56Z"), utc(2026, 11, 1, 12, 34, 56));
    EXPECT_EQ(parse_moment("2024-02-29"), utc(2024, 2, 29));
}

TEST(ParseMoment, RejectsWhatIsNoTime) {
    for (const char* bad : {"",
                            "Z",
                            "2026",
                            "2026-11",
                            "2026-1-01",
                            "2026-11-1",
                            "2026-11-01T",
                            "2026-11-01T1",
                            "2026-11-01T12:0",
                            "2026-11-01T12:00:5",
                            "2026-11-01T24:00",
                            "2026-11-01T12:60",
                            "2026-13-01",
                            "2026-00-10",
                            "2026-02-30",
                            "2025-02-29",
                            "2026-11-01x",
                            "2026-11-01T12:00:00.5",
                            "latest",
                            "2026/11/01",
                            "2026-11-01ZZ"}) {
        EXPECT_FALSE(parse_moment(bad).has_value()) << bad;
    }
}

TEST(UtcTimeName, RoundTripsThroughParseMoment) {
    const std::int64_t t = utc(2026, 11, 21, 10, 0, 7);
    EXPECT_EQ(utc_time_name(t), "2026-11-21T10:00:07Z");
    EXPECT_EQ(parse_moment(utc_time_name(t)), t);
}

TEST(SnapshotCatalog, NamesByTimeAndDisambiguatesClashes) {
    const std::int64_t t = utc(2026, 11, 21, 10);
    SnapshotCatalog c({snap(t + 60, "a"), snap(t, "a", {}, 0xbb, 5), snap(t, "b", {}, 0xaa, 5)}, 7);
    ASSERT_EQ(c.all().size(), 3u);
    EXPECT_EQ(c.generation(), 7u);
    // Same second: the older (by nanoseconds, then id) keeps the plain name.
    EXPECT_EQ(c.all()[0]->name, "2026-11-21T10:00:00Z");
    EXPECT_EQ(c.all()[0]->snapshot.rec.host, "b");
    EXPECT_EQ(c.all()[1]->name, "2026-11-21T10:00:00Z-" + c.all()[1]->short_id);
    EXPECT_EQ(c.all()[2]->name, "2026-11-21T10:01:00Z");
    EXPECT_EQ(c.latest(), c.all()[2]);
    for (const auto& s : c.all()) EXPECT_EQ(c.by_name(s->name), s);
    EXPECT_EQ(c.by_name("2026-11-21T10:02:00Z"), nullptr);
}

TEST(SnapshotCatalog, ShortIdsAreUniqueAndPrefixesResolve) {
    Snapshot a = snap(100, "h"), b = snap(200, "h");
    // Ids sharing their first 10 hex digits need 11 to tell apart.
    for (int i = 0; i < 5; ++i) a.id.bytes[i] = b.id.bytes[i] = 0x12;
    a.id.bytes[5] = 0x30;
    b.id.bytes[5] = 0x31;
    SnapshotCatalog c({a, b}, 1);
    EXPECT_EQ(c.all()[0]->short_id, a.id.hex().substr(0, 12));
    EXPECT_EQ(c.all()[1]->short_id, b.id.hex().substr(0, 12));
    EXPECT_EQ(c.by_id(c.all()[0]->short_id), c.all()[0]);
    EXPECT_EQ(c.by_id(a.id.hex()), c.all()[0]);
    EXPECT_EQ(c.by_id(b.id.hex().substr(0, 12)), c.all()[1]);
    EXPECT_EQ(c.by_id("1212"), nullptr);  // ambiguous
    EXPECT_EQ(c.by_id("12g2"), nullptr);  // not hex
    EXPECT_EQ(c.by_id("121"), nullptr);   // too short
}

TEST(SnapshotCatalog, AtOrBeforeFindsNewestNotAfter) {
    const std::int64_t t = utc(2026, 11, 1, 12);
    SnapshotCatalog c(
        {snap(t, "h", {}, 1, 500), snap(t + 3600, "h", {}, 2), snap(t + 7200, "h", {}, 3)}, 1);
    EXPECT_EQ(c.at_or_before(t - 1), nullptr);
    // The second named includes its fraction: the name of a snapshot finds that snapshot.
    EXPECT_EQ(c.at_or_before(t), c.all()[0]);
    EXPECT_EQ(c.at_or_before(t + 3599), c.all()[0]);
    EXPECT_EQ(c.at_or_before(t + 3600), c.all()[1]);
    EXPECT_EQ(c.at_or_before(t + 100000), c.all()[2]);
}

TEST(SnapshotCatalog, GroupsHostsAndTagsWithSafeNames) {
    SnapshotCatalog c(
        {snap(1, "web1", {"daily", "a/b"}), snap(2, "db", {"daily"}), snap(3, "", {".."})}, 1);
    ASSERT_EQ(c.hosts().size(), 3u);
    EXPECT_EQ(c.hosts().at("web1").size(), 1u);
    EXPECT_EQ(c.hosts().count("_"), 1u);
    EXPECT_EQ(c.tags().at("daily").size(), 2u);
    EXPECT_EQ(c.tags().count("a_b"), 1u);
    EXPECT_EQ(c.tags().count("_.."), 1u);
    EXPECT_EQ(directory_name("."), "_.");
    EXPECT_EQ(directory_name("x/y"), "x_y");
}

TEST(MountOptions, ParsesSizes) {
    EXPECT_EQ(parse_byte_size("1048576"), 1048576u);
    EXPECT_EQ(parse_byte_size("512K"), 512u << 10);
    EXPECT_EQ(parse_byte_size("64M"), 64u << 20);
    EXPECT_EQ(parse_byte_size("64MiB"), 64u << 20);
    EXPECT_EQ(parse_byte_size("2g"), std::size_t{2} << 30);
    EXPECT_EQ(parse_byte_size("0"), 0u);
    for (const char* bad : {"", "M", "12Q", "-5", "1.5G", "99999999999999999999999"})
        EXPECT_FALSE(parse_byte_size(bad).has_value()) << bad;
}

TEST(MountOptions, AppliesOptionLists) {
    MountOptions o;
    apply_option_list("ro,allow_other,cache_size=256M,noatime,x-systemd.automount,_netdev", o);
    EXPECT_TRUE(o.allow_other);
    EXPECT_EQ(o.cache_bytes, 256u << 20);
    EXPECT_FALSE(o.debug);
    apply_option_list("debug", o);
    EXPECT_TRUE(o.debug);
    apply_option_list("rw,defaults", o);  // what mount(8) passes for fstab's "defaults"
    EXPECT_THROW(apply_option_list("suid", o), StoreError);
    EXPECT_THROW(apply_option_list("ro,bogus", o), StoreError);
    EXPECT_THROW(apply_option_list("cache_size=lots", o), StoreError);
    EXPECT_EQ(o.disk_cache_bytes, kDefaultDiskCacheBytes);
    apply_option_list("disk_cache_size=4G", o);
    EXPECT_EQ(o.disk_cache_bytes, std::uint64_t{4} << 30);
    apply_option_list("disk_cache_size=0", o);
    EXPECT_EQ(o.disk_cache_bytes, 0u);
    EXPECT_THROW(apply_option_list("disk_cache_size=", o), StoreError);
    EXPECT_EQ(o.refresh_seconds, kDefaultRefreshSeconds);
    apply_option_list("refresh=5", o);
    EXPECT_EQ(o.refresh_seconds, 5u);
    apply_option_list("refresh=0", o);
    EXPECT_EQ(o.refresh_seconds, 0u);
    for (const char* bad : {"refresh=", "refresh=-1", "refresh=1.5", "refresh=99999999999"})
        EXPECT_THROW(apply_option_list(bad, o), StoreError) << bad;
}

}  // namespace
}  // namespace strata::fs
