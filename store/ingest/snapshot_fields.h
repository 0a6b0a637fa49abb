// What every kind of ingest (a source tree, ingest.h; a stream, stream_ingest.h) fills alike:
// the owner names of its entries and the fields of the record it saves that come from its
// options. Internal to store/ingest/.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "store/format/snapshot.h"
#include "store/ingest/ingest.h"

namespace strata {

// The names of user `uid` and group `gid`, "" when the system knows none.
std::string owner_user_name(uid_t uid);
std::string owner_group_name(gid_t gid);

// A record of a snapshot started at `started_wall` holding `paths`: its time, and the host,
// tags (sorted, each once) and note of `opts`. The caller adds the parent, the root and the
// totals.
SnapshotRecord start_record(const IngestOptions& opts, std::vector<std::string> paths,
                            std::chrono::system_clock::time_point started_wall);

}  // namespace strata
