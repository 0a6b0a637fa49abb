// Named points in the write paths where tests kill the process (SIGKILL, as `kill -9` would) to
// check crash safety. Inactive unless STRATA_TEST_CRASH_AT="<name>[:<n>]" is set, in which case
// the n-th (default 1st) arrival at <name> kills the process. Costs one load when inactive.
#pragma once

namespace strata {
void crash_point(const char* name);
}
