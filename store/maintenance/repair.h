// Rebuilding a repository's index from its packs and snapshot records (`strata repair-index`),
// and opening a repository for a writer, rebuilding its index first when it is unusable.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "store/repo/repository.h"

namespace strata {

// Takes the writer lock as `purpose` (waiting up to `lock_wait` seconds, as lock_for_writing) and
// rebuilds the index of `repo` (opened with Repository::open_for_repair) from its packs and
// snapshot records (Repository::repair_index). The index being replaced lends the blob lists of
// packs whose trailer is lost, if a child process reads it without crashing (probe_index), and
// only when such a pack is met. The lock is released on return.
Repository::RepairReport rebuild_index(Repository& repo,
                                       const std::string& purpose = "repair-index",
                                       double lock_wait = 0);

// Opens the local repository `path` for a writer (ingest, forget, prune, tag, note). An index
// that is missing or damaged (IndexUnusable) is rebuilt first, under the writer lock (taken as
// "`purpose` (rebuilding the index)", waiting up to `lock_wait` seconds), unless another writer
// rebuilt it meanwhile; then the repository is opened again. What happens is told, one line at a
// time, to `say` (lines start with "strata `purpose`: " or "problem: "). `sync`: as for
// Repository::open.
std::unique_ptr<Repository> open_rebuilding_index(
    const std::string& path, const std::string& purpose, double lock_wait,
    const std::function<void(const std::string&)>& say,
    Repository::CacheSync sync = Repository::CacheSync::AtOpen);

}  // namespace strata
