// Retention: which snapshots a policy keeps (the semantics restic users know; every difference is
// listed in docs/maintenance.md), forgetting snapshots, and rewriting a snapshot record (tags,
// note). Forgetting removes records only; `prune` (store/maintenance/prune.h) frees the data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/repo/repository.h"

namespace strata {

// A span of local calendar time: "1y6m", "30d", "2w", "12h" (y years, m months, w weeks = 7 days,
// d days, h hours; units may be combined, each at most once).
struct CalendarSpan {
    int years = 0, months = 0, days = 0, hours = 0;

    bool empty() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
    std::string str() const;  // canonical form, e.g. "1y2m14d"
};

// Throws Usage naming the text for anything but the form above.
CalendarSpan parse_calendar_span(const std::string& text);
// `t` (Unix seconds) minus `span` in the local calendar of the TZ environment: months and years
// move the date (Mar 31 minus 1m is Mar 3, as with mktime's normalization), hours are real hours.
std::int64_t subtract_span(std::int64_t t, const CalendarSpan& span);

struct RetentionPolicy {
    static constexpr int kAll = -1;  // a count of kAll keeps one per bucket without limit
    // Keep the newest N snapshots; the newest snapshot of each of the newest N hours, days, ISO
    // weeks, months, years that have snapshots (local calendar). 0 = rule not used.
    int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
    // Keep every snapshot, or the newest of each hour/day/…, taken within the span before the
    // group's newest snapshot (not before "now": a host that stopped backing up keeps its history).
    CalendarSpan within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly;
    // Keep snapshots carrying every tag of at least one of these lists.
    std::vector<std::vector<std::string>> tags;

    bool empty() const;
    std::string describe() const;  // "keep 7 last, 14 daily, all within 30d, tag release"
};

// Which snapshot fields separate the groups a policy applies to independently.
struct GroupBy {
    bool host = true, paths = true, tags = false;
};
// "host,paths" (the default), "host", "paths", "tags", any comma-separated combination, or ""
// (one group). Throws Usage for anything else.
GroupBy parse_group_by(const std::string& text);

struct KeptSnapshot {
    Snapshot snapshot;
    std::vector<std::string> reasons;  // "last snapshot", "daily snapshot", "within 30d", …
};

struct RetentionGroup {
    // The group's key; fields the grouping does not use are empty. Paths and tags are sorted.
    std::string host;
    std::vector<std::string> paths, tags;
    std::vector<KeptSnapshot> keep;  // newest first
    std::vector<Snapshot> remove;    // newest first
};

// Applies `policy` to each group of `snapshots`. Snapshots newer than `now` (Unix seconds) are
// kept by the rules but never count as the group's newest for the "within" rules. An empty
// policy keeps everything. Groups come sorted by key.
std::vector<RetentionGroup> apply_retention(const std::vector<Snapshot>& snapshots,
                                            const RetentionPolicy& policy, const GroupBy& group_by,
                                            std::int64_t now);

// Writer lock required. For each id: deletes snapshots/<id> durably, then drops it from the index
// (a crash in between is repaired by the next writer's reconciliation). Absent ids are skipped.
void forget_snapshots(Repository& repo, const std::vector<BlobId>& ids);

// Writer lock required. A record is content-addressed, so changing its tags or note makes a new
// snapshot: `rec` is stored first (durably, and indexed), then `old` is forgotten. A crash in
// between leaves both; nothing is lost. Returns the new id (old.id when `rec` equals old.rec).
BlobId replace_snapshot_record(Repository& repo, const Snapshot& old, const SnapshotRecord& rec);

// What `strata forget` removes: the snapshots `names` gives (ids or unique prefixes, resolved
// with resolve_snapshot, each once, in one group), or else, when `names` is empty, those
// `policy` does not keep among the snapshots `select` picks (every snapshot when `select` is
// empty), grouped by `group_by`, at `now` (Unix seconds).
struct ForgetRequest {
    std::vector<std::string> names;
    RetentionPolicy policy;
    GroupBy group_by;
    std::function<std::vector<Snapshot>(const std::vector<Snapshot>&)> select;
    std::int64_t now = 0;
    bool dry_run = false;  // decide and tell, change nothing (and take no lock)
    double lock_wait_seconds = 0;
    // Told the decision, with the lock held, before anything is removed.
    std::function<void(const std::vector<RetentionGroup>&)> on_plan;
};

// Unless a dry run, takes the writer lock as "forget" (waiting up to lock_wait_seconds), decides
// what `req` removes, tells on_plan, then forgets the snapshots of every group's remove list
// (forget_snapshots); the lock is released on return. Returns the groups.
std::vector<RetentionGroup> forget(Repository& repo, const ForgetRequest& req);

}  // namespace strata
