// What `prune` and `forget --prune` share: the prune options, the progress line, the plan and
// result as text and JSON.
#pragma once

#include "store/maintenance/prune.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {

// Adds --max-unused, --grace and --lock-wait.
void add_prune_options(po::options_description& opts);
// Reads them back (throws UsageError for malformed values) and hooks progress and plan printing
// to `io` unless `json`.
PruneOptions prune_options(const po::variables_map& vm, CliIo& io, bool json);
// Prints the outcome (after the plan, which on_plan printed).
void print_prune_result(const PruneResult& r, const PruneOptions& opts, std::ostream& out);
Json prune_json(const PruneResult& r, const PruneOptions& opts);

}  // namespace strata::cli
