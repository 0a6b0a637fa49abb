// Shared by the end-to-end tests: the strata binary driven as a child process.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/testlib/process.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"
#include "tests/testlib/tree_scan.h"

namespace strata::testing {

using Json = nlohmann::json;

inline bool running_as_root() { return ::geteuid() == 0; }

// `s` quoted for a POSIX shell.
inline std::string sh_quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// `bash -c SCRIPT` where $S is the strata binary (for pipes into and out of it).
inline RunResult shell(const std::string& script) {
    return run_process({"bash", "-c", "S=" + sh_quoted(strata_binary()) + "; " + script});
}

// `strata init REPO`, asserting success.
inline void init_repo(const std::string& repo) {
    RunResult r = run_strata({"init", "--encryption", "none", repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
}

struct Ingested {
    RunResult run;
    Json summary;  // the --json summary (null if the ingest failed)
    std::string id;
};

// `strata ingest --json REPO PATHS... EXTRA...`; parses the summary when there is one.
inline Ingested ingest(const std::string& repo, const std::vector<std::string>& paths,
                       const std::vector<std::string>& extra = {},
                       const std::vector<std::string>& env = {}) {
    std::vector<std::string> args{"ingest", "--json", repo};
    args.insert(args.end(), paths.begin(), paths.end());
    args.insert(args.end(), extra.begin(), extra.end());
    Ingested i;
    i.run = run_strata(args, env);
    if (i.run.exit_code == 0 || i.run.exit_code == 3) {
        i.summary = Json::parse(i.run.out, nullptr, false);
        if (i.summary.is_object() && i.summary.contains("id"))
            i.id = i.summary["id"].get<std::string>();
    }
    return i;
}

// Snapshot ids, oldest first, from `strata snapshots --json`.
inline std::vector<std::string> snapshot_ids(const std::string& repo) {
    RunResult r = run_strata({"snapshots", "--json", repo});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    std::vector<std::string> ids;
    Json j = Json::parse(r.out, nullptr, false);
    if (!j.is_array()) {
        ADD_FAILURE() << "snapshots --json is not an array: " << r.out;
        return ids;
    }
    for (const auto& s : j) ids.push_back(s["id"].get<std::string>());
    return ids;
}

// Restores `snapshot` into `target` and returns the differences against `source` ("" = equal).
inline std::string restore_and_compare(const std::string& repo, const std::string& snapshot,
                                       const std::string& target, const std::string& source,
                                       const CompareOptions& opts = {}) {
    RunResult r = run_strata({"restore", repo, snapshot, target});
    if (r.exit_code != 0) return "restore failed: " + describe(r);
    return tree_differences(source, target, opts);
}

}  // namespace strata::testing
