// The verifier behind verify() and verify_without_index() (verify.h), in passes: snapshot records
// and trees (verify_structure.cpp), the index against the packs and reading every pack
// (verify_packs.cpp), then which snapshots and paths the damage reaches (verify_damage.cpp);
// verify.cpp runs them. Internal to store/maintenance/.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/maintenance/verify.h"
#include "store/maintenance/verify_read.h"

namespace strata::verification {

// A file's reference to a data blob: its id and the size the tree claims for it.
struct ChunkRef {
    BlobId id;
    std::uint32_t size;
    bool operator==(const ChunkRef&) const = default;
};
struct ChunkRefHash {
    std::size_t operator()(const ChunkRef& c) const {
        return BlobIdHash{}(c.id) ^ (std::size_t{c.size} * 0x9e3779b97f4a7c15ull);
    }
};

struct Located {
    BlobId id;
    BlobLocation loc;
};

class Verifier {
  public:
    Verifier(Repository& repo, const VerifyOptions& opts) : repo_(repo), opts_(opts) {}

    // `cannot_record`: why verification times cannot be written ("" when they can).
    VerifyReport run(const std::string& cannot_record);

    VerifyReport run_without_index(const std::string& index_error);

  private:
    void problem(const std::string& kind, const std::string& object, const std::string& detail);

    void progress(const char* phase, std::uint64_t done, std::uint64_t total, bool force = false);

    // Marks a blob as unreadable; the first reason is kept.
    void mark_bad(const BlobId& id, const std::string& why) { bad_.emplace(id, why); }

    // --- pass 1: snapshot records -------------------------------------------------------------

    void check_records();

    void compare_snapshot_table();

    // --- pass 2: the index against the packs ---------------------------------------------------

    void check_packs();

    // --- pass 3: trees ---------------------------------------------------------------------------

    bool snapshot_gone(const Snapshot& s);

    void check_trees();

    // --- pass 4: read data -----------------------------------------------------------------------

    static PackToCheck to_check(std::string name, const std::vector<Located>& blobs);

    // Records what the read-data pass found in one pack (read, not missing); returns whether the
    // pack is wholly intact. A pack whose size problem was reported already is not intact, and is
    // not reported again for its checksum.
    bool record_findings(const PackToCheck& pack, const PackFindings& f, bool size_reported);

    std::vector<std::size_t> select_packs();

    void read_data();

    // --- report: which snapshots and paths the damage reaches
    // --------------------------------------

    // Whether a chunk of a file cannot be read as the tree describes it.
    bool bad_chunk(const ChunkRef& c) const { return bad_.count(c.id) || mismatched_.count(c); }
    bool bad_file(const TreeEntry& e) const;

    // Whether anything below `tree` is damaged; each tree is looked at once. Trees nested deeper
    // than the format allows count as damaged (and bound the recursion).
    bool damaged(const BlobId& tree, std::size_t depth = 1);

    // How many damaged paths lie below `tree` (saturating at the largest count); each tree is
    // counted once, so 2^60 paths through shared subtrees cost 60 trees, not 2^60 steps.
    std::uint64_t damaged_paths(const BlobId& tree, std::size_t depth = 1);

    // Names the damaged paths below `tree` until kMaxReportedPaths are named, then only counts.
    void collect(const BlobId& tree, const std::string& path, AffectedSnapshot& a,
                 std::size_t depth = 1);

    void find_affected();

    Repository& repo_;
    const VerifyOptions& opts_;
    VerifyReport report_;
    std::chrono::steady_clock::time_point last_progress_{};
    bool recording_ = true;
    std::vector<Snapshot> records_;
    std::vector<AffectedSnapshot> damaged_records_;
    std::vector<PackInfo> packs_;
    std::vector<std::vector<Located>> located_;  // per entry of packs_, by offset
    std::unordered_set<std::uint32_t> vanished_, unusable_, size_reported_;
    // Pack seq → the size the listing of packs/ gave (read-data needs no size request then).
    std::unordered_map<std::uint32_t, std::uint64_t> listed_size_;
    std::unordered_map<BlobId, std::string, BlobIdHash> bad_;
    std::unordered_set<ChunkRef, ChunkRefHash> mismatched_;  // references whose size is wrong
    std::unordered_map<BlobId, bool, BlobIdHash> memo_;
    std::unordered_map<BlobId, std::uint64_t, BlobIdHash> count_memo_;
};

}  // namespace strata::verification
