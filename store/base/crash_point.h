// Named points in the write paths where tests kill the process (SIGKILL, as `kill -9` would) to
// check crash safety. Inactive unless STRATA_TEST_CRASH_AT="<name>[:<n>]" is set, in which case
// the n-th (default 1st) arrival at <name> kills the process. Costs one load when inactive.
#pragma once

namespace strata {
void crash_point(const char* name);

// A test hook like crash_point: STRATA_TEST_PAUSE_AT="<name>:<milliseconds>" makes the first
// arrival at <name> sleep that long (default 1000 ms), so a test can act while the process is
// held there (stop the object store after a pack is uploaded; hold prune inside its locked part
// while another writer waits). Later arrivals pass.
void pause_point(const char* name);
}  // namespace strata
