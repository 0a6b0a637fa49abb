#include "store/maintenance/retention.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <tuple>

#include "store/base/crash_point.h"

namespace strata {
namespace {

std::tm local_time(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    return tm;
}

// Bucket keys of the local calendar; two snapshots with the same key share the bucket.
std::int64_t hour_key(const std::tm& tm) {
    return (tm.tm_year + 1900) * 1000000LL + (tm.tm_mon + 1) * 10000 + tm.tm_mday * 100 +
           tm.tm_hour;
}
std::int64_t day_key(const std::tm& tm) {
    return (tm.tm_year + 1900) * 10000LL + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}
std::int64_t week_key(const std::tm& tm) {  // ISO 8601 week-numbering year and week
    char buf[16];
    std::strftime(buf, sizeof buf, "%G%V", &tm);
    return std::atoll(buf);
}
std::int64_t month_key(const std::tm& tm) { return (tm.tm_year + 1900) * 100LL + (tm.tm_mon + 1); }
std::int64_t year_key(const std::tm& tm) { return tm.tm_year + 1900; }

using BucketKey = std::int64_t (*)(const std::tm&);

struct CountRule {
    int count;
    BucketKey key;  // nullptr: every snapshot is its own bucket ("last")
    const char* reason;
    std::int64_t previous = 0;
    bool any = false;
};

struct WithinRule {
    const CalendarSpan* span;
    BucketKey key;
    const char* reason;
    std::int64_t previous = 0;
    bool any = false;
};

bool has_all_tags(const SnapshotRecord& r, const std::vector<std::string>& want) {
    for (const auto& t : want)
        if (std::find(r.tags.begin(), r.tags.end(), t) == r.tags.end()) return false;
    return true;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

bool newer_first(const Snapshot& a, const Snapshot& b) {
    return std::tie(b.rec.time_sec, b.rec.time_nsec, b.id) <
           std::tie(a.rec.time_sec, a.rec.time_nsec, a.id);
}

void apply_to_group(std::vector<Snapshot> list, const RetentionPolicy& p, std::int64_t now,
                    RetentionGroup& g) {
    std::sort(list.begin(), list.end(), newer_first);
    if (p.empty()) {
        for (auto& s : list) g.keep.push_back({std::move(s), {"policy is empty"}});
        return;
    }
    // The newest snapshot not in the future anchors the "within" rules.
    std::int64_t latest = 0;
    for (const auto& s : list)
        if (s.rec.time_sec <= now) latest = std::max(latest, s.rec.time_sec);

    CountRule counts[] = {
        {p.last, nullptr, "last snapshot"},         {p.hourly, hour_key, "hourly snapshot"},
        {p.daily, day_key, "daily snapshot"},       {p.weekly, week_key, "weekly snapshot"},
        {p.monthly, month_key, "monthly snapshot"}, {p.yearly, year_key, "yearly snapshot"},
    };
    WithinRule withins[] = {
        {&p.within_hourly, hour_key, "hourly within"},
        {&p.within_daily, day_key, "daily within"},
        {&p.within_weekly, week_key, "weekly within"},
        {&p.within_monthly, month_key, "monthly within"},
        {&p.within_yearly, year_key, "yearly within"},
    };
    const std::int64_t within_cutoff = p.within.empty() ? 0 : subtract_span(latest, p.within);

    for (std::size_t i = 0; i < list.size(); ++i) {
        const Snapshot& s = list[i];
        const std::tm tm = local_time(s.rec.time_sec);
        const bool oldest = i + 1 == list.size();
        std::vector<std::string> reasons;
        for (const auto& tags : p.tags)
            if (has_all_tags(s.rec, tags)) reasons.push_back("tag " + join(tags, ","));
        if (!p.within.empty() && s.rec.time_sec > within_cutoff)
            reasons.push_back("within " + p.within.str());
        for (auto& r : counts) {
            if (r.count == 0) continue;
            const std::int64_t k = r.key ? r.key(tm) : static_cast<std::int64_t>(i);
            const bool new_bucket = !r.any || k != r.previous;
            // The oldest snapshot is kept too while a rule has counts left, so the history kept
            // reaches as far back as the snapshots do (restic does the same).
            if (new_bucket || oldest) {
                reasons.push_back(new_bucket ? r.reason : std::string(r.reason) + " (oldest)");
                r.previous = k;
                r.any = true;
                if (r.count > 0) r.count--;
            }
        }
        for (auto& r : withins) {
            if (r.span->empty()) continue;
            if (s.rec.time_sec <= subtract_span(latest, *r.span)) continue;
            const std::int64_t k = r.key(tm);
            if (!r.any || k != r.previous) {
                reasons.push_back(std::string(r.reason) + " " + r.span->str());
                r.previous = k;
                r.any = true;
            }
        }
        if (reasons.empty())
            g.remove.push_back(s);
        else
            g.keep.push_back({s, std::move(reasons)});
    }
}

}  // namespace

std::string CalendarSpan::str() const {
    std::string s;
    if (years) s += std::to_string(years) + "y";
    if (months) s += std::to_string(months) + "m";
    if (days) s += std::to_string(days) + "d";
    if (hours) s += std::to_string(hours) + "h";
    return s.empty() ? "0h" : s;
}

CalendarSpan parse_calendar_span(const std::string& text) {
    auto bad = [&](const std::string& why) -> CalendarSpan {
        throw_usage("\"" + text + "\" is not a duration (" + why +
                    "); write it like 30d, 2w, 12h or 1y6m (y years, m months, w weeks, d days, "
                    "h hours)");
    };
    // A limit that keeps the calendar arithmetic far from overflowing int and time_t.
    constexpr long kMaxUnits = 100000;
    CalendarSpan s;
    std::string seen;
    std::size_t pos = 0;
    if (text.empty()) return bad("empty");
    while (pos < text.size()) {
        std::size_t digits = pos;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') digits++;
        if (digits == pos) return bad("a number must come before each unit");
        if (digits == text.size()) return bad("the number " + text.substr(pos) + " has no unit");
        if (digits - pos > 6) return bad("number too large");
        long n = std::stol(text.substr(pos, digits - pos));
        if (n > kMaxUnits) return bad("number too large");
        char unit = text[digits];
        if (seen.find(unit) != std::string::npos)
            return bad(std::string("unit ") + unit + " given twice");
        seen += unit;
        switch (unit) {
            case 'y':
                s.years = static_cast<int>(n);
                break;
            case 'm':
                s.months = static_cast<int>(n);
                break;
            case 'w':
                s.days += static_cast<int>(n) * 7;
                break;
            case 'd':
                s.days += static_cast<int>(n);
                break;
            case 'h':
                s.hours = static_cast<int>(n);
                break;
            default:
                return bad(std::string("unknown unit '") + unit + "'");
        }
        pos = digits + 1;
    }
    return s;
}

std::int64_t subtract_span(std::int64_t t, const CalendarSpan& span) {
    std::tm tm = local_time(t);
    tm.tm_year -= span.years;
    tm.tm_mon -= span.months;
    tm.tm_mday -= span.days;
    tm.tm_isdst = -1;  // let mktime decide for the new date
    std::time_t moved = std::mktime(&tm);
    return static_cast<std::int64_t>(moved) - static_cast<std::int64_t>(span.hours) * 3600;
}

bool RetentionPolicy::empty() const {
    return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 &&
           within.empty() && within_hourly.empty() && within_daily.empty() &&
           within_weekly.empty() && within_monthly.empty() && within_yearly.empty() && tags.empty();
}

std::string RetentionPolicy::describe() const {
    std::vector<std::string> parts;
    auto count = [&](int n, const char* what) {
        if (n == kAll)
            parts.push_back(std::string("all ") + what);
        else if (n > 0)
            parts.push_back(std::to_string(n) + " " + what);
    };
    count(last, "last");
    count(hourly, "hourly");
    count(daily, "daily");
    count(weekly, "weekly");
    count(monthly, "monthly");
    count(yearly, "yearly");
    auto span = [&](const CalendarSpan& s, const char* what) {
        if (!s.empty()) parts.push_back(std::string(what) + " within " + s.str());
    };
    span(within, "all");
    span(within_hourly, "hourly");
    span(within_daily, "daily");
    span(within_weekly, "weekly");
    span(within_monthly, "monthly");
    span(within_yearly, "yearly");
    for (const auto& t : tags) parts.push_back("tag " + join(t, ","));
    return parts.empty() ? "keep everything (empty policy)" : "keep " + join(parts, ", ");
}

GroupBy parse_group_by(const std::string& text) {
    GroupBy g{false, false, false};
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t comma = text.find(',', pos);
        std::string part =
            text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? text.size() : comma + 1;
        if (part == "host")
            g.host = true;
        else if (part == "paths")
            g.paths = true;
        else if (part == "tags")
            g.tags = true;
        else if (!part.empty())
            throw_usage("cannot group by \"" + part +
                        "\": use host, paths, tags, a comma-separated "
                        "combination, or \"\" for one group");
    }
    return g;
}

std::vector<RetentionGroup> apply_retention(const std::vector<Snapshot>& snapshots,
                                            const RetentionPolicy& policy, const GroupBy& group_by,
                                            std::int64_t now) {
    using Key = std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>;
    std::map<Key, std::vector<Snapshot>> groups;
    for (const auto& s : snapshots) {
        Key k;
        if (group_by.host) std::get<0>(k) = s.rec.host;
        if (group_by.paths) {
            std::get<1>(k) = s.rec.paths;
            std::sort(std::get<1>(k).begin(), std::get<1>(k).end());
        }
        if (group_by.tags) {
            std::get<2>(k) = s.rec.tags;
            std::sort(std::get<2>(k).begin(), std::get<2>(k).end());
        }
        groups[k].push_back(s);
    }
    std::vector<RetentionGroup> out;
    for (auto& [k, list] : groups) {
        RetentionGroup g;
        std::tie(g.host, g.paths, g.tags) = k;
        apply_to_group(std::move(list), policy, now, g);
        out.push_back(std::move(g));
    }
    return out;
}

void forget_snapshots(Repository& repo, const std::vector<BlobId>& ids) {
    // Before any record goes: hosts that saw them learn they were forgotten, not rolled back.
    write_forget_record(repo.objects(), repo.codec(), ids);
    for (const auto& id : ids) {
        // The record is the truth: delete it first. The index entry left by a crash here is
        // dropped by the next writer (Repository::lock_for_writing reconciles).
        repo.objects().remove(snapshot_object_name(id));
        crash_point("forget-record-removed");
        repo.index().remove_snapshot(id);
    }
}

std::vector<RetentionGroup> forget(Repository& repo, const ForgetRequest& req) {
    std::unique_ptr<WriterLock> lock;
    if (!req.dry_run) lock = repo.lock_for_writing("forget", req.lock_wait_seconds);
    std::vector<Snapshot> all = repo.snapshots();
    std::vector<RetentionGroup> groups;
    if (!req.names.empty()) {
        RetentionGroup g;
        for (const auto& name : req.names) {
            const Snapshot& s = resolve_snapshot(all, name);
            bool dup = false;
            for (const auto& r : g.remove) dup = dup || r.id == s.id;
            if (!dup) g.remove.push_back(s);
        }
        groups.push_back(std::move(g));
    } else {
        // Snapshots the selection leaves out are neither kept nor removed: not considered at all.
        groups =
            apply_retention(req.select ? req.select(all) : all, req.policy, req.group_by, req.now);
    }
    if (req.on_plan) req.on_plan(groups);
    if (!req.dry_run) {
        std::vector<BlobId> doomed;
        for (const auto& g : groups)
            for (const auto& s : g.remove) doomed.push_back(s.id);
        forget_snapshots(repo, doomed);
    }
    return groups;
}

BlobId replace_snapshot_record(Repository& repo, const Snapshot& old, const SnapshotRecord& rec) {
    if (encode_snapshot(rec) == encode_snapshot(old.rec)) return old.id;
    BlobId id = repo.save_snapshot(rec);
    crash_point("replace-new-record-saved");
    if (id != old.id) forget_snapshots(repo, {old.id});
    return id;
}

}  // namespace strata
