// A small real repository for the maintenance tests (prune, verify, stats): created in a temporary
// directory with small chunks, filled through the real ingest from a source directory.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "store/ingest/ingest.h"
#include "store/repo/repository.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {

// Small chunks so that a few hundred KiB make many blobs.
// Calls fn for every chunk reference of every file in snapshot `s`, loading its trees (and so
// hash-checking them) on the way; a chunk shared by several files is visited once per file.
inline void for_each_chunk(Repository& repo, const Snapshot& s, const std::function<void(const ChunkRef&)>& fn) {
    std::vector<BlobId> stack{s.rec.root};
    while (!stack.empty()) {
        BlobId t = stack.back();
        stack.pop_back();
        for (const auto& e : repo.load_tree(t)) {
            if (e.type == EntryType::Dir) stack.push_back(e.subtree);
            for (const auto& c : e.chunks) fn(c);
        }
    }
}

inline InitOptions small_chunks() {
    InitOptions o = default_init_options();
    o.chunker = {16u << 10, 32u << 10, 64u << 10};
    return o;
}

class TestRepo {
public:
    TestRepo() : path(dir / "repo"), src(dir / "src") {
        Repository::init(path, small_chunks());
        ::mkdir(src.c_str(), 0755);
        reopen();
    }

    void reopen() {
        repo.reset();
        repo = Repository::open(path);
    }

    // Writes `n` random bytes from `seed` at src/<rel>.
    void write(const std::string& rel, std::size_t n, std::uint64_t seed) {
        write_random_file(src + "/" + rel, n, seed);
    }
    void remove(const std::string& rel) { ::unlink((src + "/" + rel).c_str()); }
    void mkdir(const std::string& rel) { ::mkdir((src + "/" + rel).c_str(), 0755); }

    Snapshot ingest_src(const std::vector<std::string>& tags = {}) {
        IngestOptions o;
        o.paths = {src};
        o.tags = tags;
        o.threads = 1;
        o.host = "testhost";
        return ingest(*repo, o).snapshot;
    }

    std::vector<std::string> pack_files() {
        std::vector<std::string> names;
        for (const auto& f : repo->objects().list("packs")) names.push_back(f.name);
        return names;
    }

    TempDir dir;
    std::string path, src;
    std::unique_ptr<Repository> repo;
};

}  // namespace strata::testing
