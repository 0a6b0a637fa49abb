// A repository where prune has real work: four snapshots of four source trees sharing content, two
// of them forgotten, so that one pack is wholly unused (deleted) and one is partly used (repacked).
//   v0: z.bin                          -> pack P0, only used by s0
//   v1: a.bin b.bin c.bin small/       -> pack P1
//   v2: a.bin c.bin d.bin small/       -> pack P2 (d.bin, trees)
//   v3: a.bin d.bin e.bin small/ (one small file changed) -> pack P3
// s0 and s1 are forgotten: P0 is unused, P1 keeps a.bin, c.bin and small/ but not b.bin.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {

// Default chunking (256 KiB to 4 MiB): a few MiB per file make a few chunks each.
constexpr std::size_t kScenarioFile = 3u << 20;

inline void make_scenario_source(const std::string& dir, int version) {
    ::mkdir(dir.c_str(), 0755);
    auto file = [&](const char* name, std::uint64_t seed) {
        write_random_file(dir + "/" + name, kScenarioFile - seed * 1000, seed);
    };
    if (version == 0) {
        file("z.bin", 1);
        return;
    }
    ::mkdir((dir + "/small").c_str(), 0755);
    for (int i = 0; i < 20; ++i) {
        std::uint64_t seed = 100 + static_cast<std::uint64_t>(i) + (version == 3 && i == 0 ? 1000 : 0);
        write_file(dir + "/small/s" + std::to_string(i), random_data(4096, seed));
    }
    file("a.bin", 2);
    if (version == 1) file("b.bin", 3);
    if (version <= 2) file("c.bin", 4);
    if (version >= 2) file("d.bin", 5);
    if (version == 3) file("e.bin", 6);
}

struct PruneScenario {
    // Builds the sources under `dir` (once per suite) as dir/v0 … dir/v3.
    static void make_sources(const std::string& dir) {
        for (int v = 0; v < 4; ++v) make_scenario_source(dir + "/v" + std::to_string(v), v);
    }

    // Creates the repository at `repo`, ingests v0..v3 and forgets s0 and s1.
    void build(const std::string& repo_path, const std::string& sources) {
        repo = repo_path;
        src = sources;
        init_repo(repo);
        for (int v = 0; v < 4; ++v) {
            Ingested i = ingest(repo, {source(v)});
            ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
            ids.push_back(i.id);
        }
        RunResult f = run_strata({"forget", repo, ids[0], ids[1]});
        ASSERT_EQ(f.exit_code, 0) << describe(f);
    }

    std::string source(int v) const { return src + "/v" + std::to_string(v); }

    std::string repo, src;
    std::vector<std::string> ids;  // s0..s3
};

// `strata verify --json --read-data`: "" when clean, else what it reported.
inline std::string verify_problems(const std::string& repo) {
    RunResult r = run_strata({"verify", "--json", "--read-data", repo});
    Json j = Json::parse(r.out, nullptr, false);
    if (r.exit_code == 0 && j.is_object() && j["clean"] == true) return "";
    return describe(r);
}

}  // namespace strata::testing
