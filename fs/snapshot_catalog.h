// The snapshots as the mount names them: one directory name per snapshot (its UTC time, with
// "-<short id>" when another snapshot has the same second), short ids, hosts and tags, and the
// time-travel lookup behind at/. Built from RepositoryReader::snapshots() each time the
// repository's snapshot generation changes; immutable afterwards, so threads share it freely.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/node.h"
#include "store/format/snapshot.h"

namespace strata::fs {

// "2026-11-21T10:00:00Z" for the second `sec` (UTC).
std::string utc_time_name(std::int64_t sec);

// Parses the at/ notation: 2026-11-01, 2026-11-01T12, 2026-11-01T12:00, 2026-11-01T12:00:05,
// each with an optional trailing Z, always UTC; omitted parts are zero. Returns the second it
// names, or nothing if `text` is not such a time (or names no real date).
std::optional<std::int64_t> parse_moment(std::string_view text);

// A host or tag as a directory name: '/' and NUL become '_', and "", "." and ".." get a '_'
// prefix, so every value has a usable name.
std::string directory_name(std::string_view value);

class SnapshotCatalog {
  public:
    using Info = std::shared_ptr<const SnapshotInfo>;

    // `all` oldest first, as RepositoryReader::snapshots() returns them.
    SnapshotCatalog(std::vector<Snapshot> all, std::uint64_t generation);

    std::uint64_t generation() const { return generation_; }
    const std::vector<Info>& all() const { return all_; }  // oldest first
    Info latest() const { return all_.empty() ? nullptr : all_.back(); }
    Info by_name(std::string_view name) const;  // snapshots/<name>
    // ids/<name>: a listed short id, or any unique prefix of at least 4 hex digits.
    Info by_id(std::string_view prefix) const;
    // The newest snapshot taken at or before the second `sec` (its sub-second part ignored, so
    // the time shown in a snapshot's name finds that snapshot).
    Info at_or_before(std::int64_t sec) const;

    // Directory name -> snapshots of that host (or tag), oldest first.
    const std::map<std::string, std::vector<Info>>& hosts() const { return hosts_; }
    const std::map<std::string, std::vector<Info>>& tags() const { return tags_; }

  private:
    std::uint64_t generation_;
    std::vector<Info> all_;
    std::map<std::string, Info, std::less<>> by_name_;
    std::map<std::string, std::vector<Info>> hosts_, tags_;
};

}  // namespace strata::fs
