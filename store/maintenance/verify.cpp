#include "store/maintenance/verify.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "store/base/deep_stack.h"
#include "store/format/compress.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/verify_read.h"
#include "store/repo/pending_deletion.h"

namespace strata {
namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(250);

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
    VerifyReport run(const std::string& cannot_record) {
        if (!cannot_record.empty()) {
            recording_ = false;
            report_.notes.push_back("verification times are not recorded (" + cannot_record +
                                    "); subset runs cannot tell which packs were read");
        }
        check_records();
        check_packs();
        check_trees();
        if (opts_.read_data != VerifyOptions::ReadData::None) read_data();
        run_with_deep_stack([&] {  // damaged() and collect() recurse per directory level
            find_affected();
            return 0;
        });
        return std::move(report_);
    }

    VerifyReport run_without_index(const std::string& index_error) {
        problem("index-unreadable", "index", index_error);
        report_.affected_known = false;
        report_.notes.push_back(
            "without the index only snapshot records and packs were checked; run `strata "
            "repair-index` to rebuild it from the packs, then verify again to check the trees");
        check_records();
        std::vector<PackToCheck> readable;  // packs whose trailer reads, with its blobs
        for (const auto& object : repo_.objects().list(format::kPackDir)) {
            const std::string& name = object.name;
            if (!pack_id_from_name(name)) continue;
            report_.packs++;
            try {
                auto entries = read_pack_trailer(repo_.objects(), name, object.size);
                report_.blobs += entries.size();
                if (opts_.read_data == VerifyOptions::ReadData::None) continue;
                std::vector<Located> blobs;
                for (const auto& e : entries)
                    blobs.push_back(
                        {e.id, {0, e.offset, e.stored_size, e.raw_size, e.type, e.codec}});
                readable.push_back(to_check(name, blobs));
            } catch (const StoreError& e) {
                if (e.kind() == StoreError::Kind::NotFound) continue;  // pruned meanwhile
                problem("pack-trailer", name, e.what());
            }
        }
        check_packs_read_data(
            repo_.objects(), repo_.codec(), readable.size(),
            [&](std::size_t k) { return std::move(readable[k]); },
            [&](std::size_t, const PackToCheck& c, const PackFindings& f) {
                if (!f.missing) record_findings(c, f, false);
            });
        return std::move(report_);
    }

  private:
    void problem(const std::string& kind, const std::string& object, const std::string& detail) {
        report_.problems.push_back({kind, object, detail});
    }

    void progress(const char* phase, std::uint64_t done, std::uint64_t total, bool force = false) {
        if (!opts_.on_progress) return;
        auto now = std::chrono::steady_clock::now();
        if (!force && now - last_progress_ < kProgressInterval) return;
        last_progress_ = now;
        opts_.on_progress({phase, done, total, report_.bytes_read});
    }

    // Marks a blob as unreadable; the first reason is kept.
    void mark_bad(const BlobId& id, const std::string& why) { bad_.emplace(id, why); }

    // --- pass 1: snapshot records -------------------------------------------------------------

    void check_records() {
        auto objects = repo_.objects().list(format::kSnapshotDir);
        std::uint64_t done = 0;
        for (const auto& object : objects) {
            const std::string& name = object.name;
            progress("snapshots", done++, objects.size());
            auto id = snapshot_id_from_name(name);
            if (!id) {
                report_.notes.push_back(name + " is not named like a snapshot record; ignored");
                continue;
            }
            try {
                records_.push_back({*id, repo_.load_snapshot_record(*id)});
            } catch (const StoreError& e) {
                if (e.kind() == StoreError::Kind::NotFound) continue;  // forgotten meanwhile
                problem("snapshot-record", name, e.what());
                AffectedSnapshot a;
                a.id = *id;
                a.record_damaged = true;
                a.paths = {"/"};
                a.paths_total = 1;
                damaged_records_.push_back(std::move(a));
            }
        }
        std::sort(records_.begin(), records_.end(), [](const Snapshot& a, const Snapshot& b) {
            return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
                   std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
        });
        report_.snapshots = records_.size() + damaged_records_.size();
    }

    void compare_snapshot_table() {
        std::unordered_set<BlobId, BlobIdHash> on_disk;
        for (const auto& s : records_) on_disk.insert(s.id);
        for (const auto& a : damaged_records_) on_disk.insert(a.id);
        std::unordered_set<BlobId, BlobIdHash> indexed;
        for (const auto& s : repo_.index().snapshots()) {
            indexed.insert(s.id);
            if (!on_disk.count(s.id) && !repo_.objects().exists(snapshot_object_name(s.id)))
                report_.notes.push_back("the index lists snapshot " + s.id.short_hex() +
                                        " whose record is gone; the next writer drops it");
        }
        for (const auto& s : records_)
            if (!indexed.count(s.id))
                report_.notes.push_back("snapshot " + s.id.short_hex() +
                                        " is not in the index yet; the next writer adds it");
    }

    // --- pass 2: the index against the packs ---------------------------------------------------

    void check_packs() {
        compare_snapshot_table();
        BlobIndex& index = repo_.index();
        std::vector<PackInfo> packs = index.packs();
        std::unordered_map<std::uint32_t, std::size_t> by_seq;
        for (std::size_t i = 0; i < packs.size(); ++i) by_seq[packs[i].seq] = i;
        located_.resize(packs.size());
        index.for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
            report_.blobs++;
            auto it = by_seq.find(loc.pack);
            if (it == by_seq.end()) {
                problem("index-dangling", "blob " + id.hex(),
                        "the index places it in pack #" + std::to_string(loc.pack) +
                            ", which the pack table does not have");
                mark_bad(id, "its index entry names an unknown pack");
                return;
            }
            located_[it->second].push_back({id, loc});
        });
        std::unordered_set<BlobId, BlobIdHash> indexed_ids;
        for (const auto& p : packs) indexed_ids.insert(p.id);
        // Listed after the pack table was read: a pack is durable before it is indexed, so an
        // indexed pack missing here is missing, or was pruned meanwhile.
        const std::vector<ObjectInfo> pack_files = repo_.objects().list(format::kPackDir);
        std::unordered_map<std::string, std::uint64_t> file_size;
        for (const auto& f : pack_files) file_size.emplace(f.name, f.size);

        for (std::size_t i = 0; i < packs.size(); ++i) {
            progress("packs", i, packs.size());
            const PackInfo& p = packs[i];
            auto& blobs = located_[i];
            std::sort(blobs.begin(), blobs.end(), [](const Located& a, const Located& b) {
                return a.loc.offset < b.loc.offset;
            });
            const std::string name = pack_object_name(p.id);
            report_.packs++;
            auto file = file_size.find(name);
            if (file == file_size.end()) {
                if (!index.pack(p.seq)) {  // pruned while we looked
                    vanished_.insert(p.seq);
                    report_.packs_vanished++;
                    continue;
                }
                std::uint64_t bytes = 0;
                for (const auto& b : blobs) bytes += b.loc.stored_size;
                problem("pack-missing", name,
                        "the pack file is missing; it held " + std::to_string(blobs.size()) +
                            " indexed blob(s), " + std::to_string(bytes) + " bytes");
                for (const auto& b : blobs) mark_bad(b.id, "its pack " + name + " is missing");
                unusable_.insert(p.seq);
                continue;
            }
            const std::uint64_t size = file->second;
            if (size != p.size) {
                std::uint64_t lost = 0;
                for (const auto& b : blobs) {
                    if (b.loc.offset + b.loc.stored_size <= size) continue;
                    lost++;
                    mark_bad(b.id, "it lies past the end of " + name);
                }
                problem("pack-size", name,
                        "the file has " + std::to_string(size) + " bytes, the index says " +
                            std::to_string(p.size) + (size < p.size ? " (truncated)" : " (grown)") +
                            "; " + std::to_string(lost) + " of its " +
                            std::to_string(blobs.size()) + " blob(s) lie past the end");
                size_reported_.insert(p.seq);
                continue;  // the trailer is not where it should be
            }
            std::vector<PackEntry> trailer;
            try {
                trailer = read_pack_trailer(repo_.objects(), name, size);
            } catch (const StoreError& e) {
                problem("pack-trailer", name, e.what());
                continue;  // the blobs themselves may be fine; read-data tells
            }
            std::unordered_map<BlobId, const PackEntry*, BlobIdHash> listed;
            for (const auto& e : trailer) listed.emplace(e.id, &e);
            std::uint64_t disagree = 0;
            for (const auto& b : blobs) {
                auto it = listed.find(b.id);
                const PackEntry* e = it == listed.end() ? nullptr : it->second;
                if (e && e->offset == b.loc.offset && e->stored_size == b.loc.stored_size &&
                    e->raw_size == b.loc.raw_size && e->type == b.loc.type &&
                    e->codec == b.loc.codec)
                    continue;
                disagree++;
                mark_bad(b.id, "the index and the trailer of " + name + " disagree about it");
            }
            if (disagree)
                problem("pack-trailer", name,
                        "the index and the pack's trailer disagree about " +
                            std::to_string(disagree) +
                            " blob(s); `strata repair-index` rebuilds the index from the trailers");
        }

        std::unordered_set<BlobId, BlobIdHash> pending;
        for (const auto& d : load_pending_deletions(repo_.objects())) pending.insert(d.pack);
        std::uint64_t waiting = 0, unindexed = 0;
        for (const auto& f : pack_files) {
            const std::string& name = f.name;
            auto id = pack_id_from_name(name);
            if (!id) {
                report_.notes.push_back(name + " is not named like a pack; ignored");
                continue;
            }
            if (indexed_ids.count(*id)) continue;
            if (pending.count(*id))
                waiting++;
            else
                unindexed++;
        }
        if (waiting)
            report_.notes.push_back(std::to_string(waiting) +
                                    " pack(s) removed by prune wait for their grace period to end");
        if (unindexed)
            report_.notes.push_back(
                std::to_string(unindexed) +
                " pack file(s) are not in the index (left by an interrupted writer, or written "
                "by one running now); prune deletes them, repair-index would index them");
        packs_ = std::move(packs);
    }

    // --- pass 3: trees ---------------------------------------------------------------------------

    bool snapshot_gone(const Snapshot& s) {
        return !repo_.objects().exists(snapshot_object_name(s.id));
    }

    void check_trees() {
        BlobIndex& index = repo_.index();
        std::unordered_set<BlobId, BlobIdHash> seen_trees;
        std::unordered_set<ChunkRef, ChunkRefHash> seen_data;  // by id and claimed size: a tree
                                                               // may lie about a good blob's size
        std::uint64_t done = 0;
        for (const auto& s : records_) {
            progress("trees", done++, records_.size());
            std::vector<BlobId> stack{s.rec.root};
            bool abandoned = false;  // the snapshot was forgotten while we walked it
            while (!stack.empty() && !abandoned) {
                BlobId tree = stack.back();
                stack.pop_back();
                if (!seen_trees.insert(tree).second) continue;
                std::vector<TreeEntry> entries;
                try {
                    entries = repo_.load_tree(tree);
                } catch (const StoreError& e) {
                    if ((abandoned = snapshot_gone(s))) break;
                    if (!bad_.count(tree)) {
                        bool missing =
                            e.kind() == StoreError::Kind::NotFound && !index.contains(tree);
                        problem(missing ? "blob-missing" : "tree-damaged", "tree " + tree.hex(),
                                std::string(e.what()) + " (in snapshot " + s.id.short_hex() + ")");
                    }
                    mark_bad(tree, e.what());
                    continue;
                }
                report_.trees++;
                for (const auto& e : entries) {
                    if (e.type == EntryType::Dir) stack.push_back(e.subtree);
                    for (const auto& c : e.chunks) {
                        if (!seen_data.insert({c.id, c.size}).second) continue;
                        auto loc = index.find(c.id);
                        if (!loc) {
                            if ((abandoned = snapshot_gone(s))) break;
                            if (!bad_.count(c.id))
                                problem("blob-missing", "blob " + c.id.hex(),
                                        "referenced by snapshot " + s.id.short_hex() +
                                            " but not in the index");
                            mark_bad(c.id, "not in the index");
                        } else if (loc->type != format::BlobType::Data || loc->raw_size != c.size) {
                            problem("blob-mismatch", "blob " + c.id.hex(),
                                    "a file's chunk of " + std::to_string(c.size) +
                                        " bytes, but the index holds a " +
                                        (loc->type == format::BlobType::Data ? "data" : "tree") +
                                        " blob of " + std::to_string(loc->raw_size) + " bytes");
                            // The blob may be fine: the damage is the reference, so only the
                            // files that claim this size are affected.
                            mismatched_.insert({c.id, c.size});
                        }
                    }
                }
            }
        }
    }

    // --- pass 4: read data -----------------------------------------------------------------------

    static PackToCheck to_check(std::string name, const std::vector<Located>& blobs) {
        PackToCheck c;
        c.name = std::move(name);
        c.blobs.reserve(blobs.size());
        for (const auto& b : blobs)
            c.blobs.push_back({b.id, b.loc.offset, b.loc.stored_size, b.loc.raw_size, b.loc.codec});
        return c;
    }

    // Records what the read-data pass found in one pack (read, not missing); returns whether the
    // pack is wholly intact. A pack whose size problem was reported already is not intact, and is
    // not reported again for its checksum.
    bool record_findings(const PackToCheck& pack, const PackFindings& f, bool size_reported) {
        report_.packs_read++;
        report_.bytes_read += f.bytes;
        bool ok = !size_reported;
        if (!f.checksum_problem.empty()) {
            problem("pack-checksum", pack.name, f.checksum_problem);
            ok = false;
        }
        for (std::size_t i = 0; i < pack.blobs.size(); ++i) {
            report_.blobs_read++;
            const std::string& why = f.blob_problems[i];
            if (why.empty()) continue;
            ok = false;
            const BlobToCheck& b = pack.blobs[i];
            if (!bad_.count(b.id))
                problem("blob-damaged", "blob " + b.id.hex(),
                        "in " + pack.name + " at offset " + std::to_string(b.offset) + ": " + why);
            mark_bad(b.id, why);
        }
        return ok;
    }

    std::vector<std::size_t> select_packs() {
        std::vector<std::size_t> chosen;
        for (std::size_t i = 0; i < packs_.size(); ++i) {
            const PackInfo& p = packs_[i];
            if (vanished_.count(p.seq) || unusable_.count(p.seq)) continue;
            if (opts_.read_data == VerifyOptions::ReadData::Slice) {
                std::uint32_t k = (std::uint32_t(p.id.bytes[0]) << 24) |
                                  (std::uint32_t(p.id.bytes[1]) << 16) |
                                  (std::uint32_t(p.id.bytes[2]) << 8) | p.id.bytes[3];
                if (k % opts_.slices != opts_.slice - 1) continue;
            }
            chosen.push_back(i);
        }
        if (opts_.read_data == VerifyOptions::ReadData::Percent) {
            // Oldest verification first (never verified = 0 comes first), then by age in the index.
            std::sort(chosen.begin(), chosen.end(), [&](std::size_t a, std::size_t b) {
                return std::tie(packs_[a].last_verified, packs_[a].seq) <
                       std::tie(packs_[b].last_verified, packs_[b].seq);
            });
            auto n = static_cast<std::size_t>(
                std::ceil(static_cast<double>(packs_.size()) * opts_.percent / 100.0));
            if (n < chosen.size()) chosen.resize(n);
        }
        return chosen;
    }

    void read_data() {
        const std::int64_t now =
            opts_.now ? opts_.now : static_cast<std::int64_t>(std::time(nullptr));
        const auto chosen = select_packs();
        std::uint64_t done = 0;
        check_packs_read_data(
            repo_.objects(), repo_.codec(), chosen.size(),
            [&](std::size_t k) {
                progress("read-data", done, chosen.size());
                const PackInfo& p = packs_[chosen[k]];
                PackToCheck c = to_check(pack_object_name(p.id), located_[chosen[k]]);
                c.check_checksum = !size_reported_.count(p.seq);
                return c;
            },
            [&](std::size_t k, const PackToCheck& c, const PackFindings& f) {
                done++;
                progress("read-data", done, chosen.size());
                const PackInfo& p = packs_[chosen[k]];
                if (f.missing) {
                    if (!repo_.index().pack(p.seq)) {
                        report_.packs_vanished++;
                        return;
                    }
                    problem("pack-missing", c.name, "the pack file disappeared while verify ran");
                    for (const auto& b : located_[chosen[k]])
                        mark_bad(b.id, "its pack " + c.name + " is missing");
                    return;
                }
                if (!record_findings(c, f, size_reported_.count(p.seq) > 0) || !recording_) return;
                try {
                    repo_.index().set_pack_verified(p.seq, now);
                } catch (const StoreError& e) {
                    recording_ = false;
                    report_.notes.push_back(std::string("could not record verification times (") +
                                            e.what() + "); the next subset run starts over");
                }
            });
        progress("read-data", done, chosen.size(), true);
    }

    // --- report: which snapshots and paths the damage reaches
    // --------------------------------------

    // Whether a chunk of a file cannot be read as the tree describes it.
    bool bad_chunk(const ChunkRef& c) const { return bad_.count(c.id) || mismatched_.count(c); }
    bool bad_file(const TreeEntry& e) const {
        for (const auto& c : e.chunks)
            if (bad_chunk({c.id, c.size})) return true;
        return false;
    }

    // Whether anything below `tree` is damaged; each tree is looked at once. Trees nested deeper
    // than the format allows count as damaged (and bound the recursion).
    bool damaged(const BlobId& tree, std::size_t depth = 1) {
        if (depth > format::kMaxTreeDepth) return true;
        auto it = memo_.find(tree);
        if (it != memo_.end()) return it->second;
        bool result = bad_.count(tree) > 0;
        if (!result) {
            std::vector<TreeEntry> entries;
            try {
                entries = repo_.load_tree(tree);
            } catch (const StoreError&) {
                result = true;
            }
            for (const auto& e : entries) {
                if (result) break;
                if (e.type == EntryType::Dir) result = damaged(e.subtree, depth + 1);
                result = result || bad_file(e);
            }
        }
        memo_[tree] = result;
        return result;
    }

    // How many damaged paths lie below `tree` (saturating at the largest count); each tree is
    // counted once, so 2^60 paths through shared subtrees cost 60 trees, not 2^60 steps.
    std::uint64_t damaged_paths(const BlobId& tree, std::size_t depth = 1) {
        if (depth > format::kMaxTreeDepth) return 1;
        auto it = count_memo_.find(tree);
        if (it != count_memo_.end()) return it->second;
        std::uint64_t n = 0;
        auto add = [&](std::uint64_t k) { n = k > UINT64_MAX - n ? UINT64_MAX : n + k; };
        std::vector<TreeEntry> entries;
        if (bad_.count(tree)) {
            n = 1;
        } else {
            try {
                entries = repo_.load_tree(tree);
            } catch (const StoreError&) {
                n = 1;
            }
        }
        for (const auto& e : entries) {
            if (e.type == EntryType::Dir) {
                if (damaged(e.subtree, depth + 1)) add(damaged_paths(e.subtree, depth + 1));
            } else if (bad_file(e)) {
                add(1);
            }
        }
        count_memo_[tree] = n;
        return n;
    }

    // Names the damaged paths below `tree` until kMaxReportedPaths are named, then only counts.
    void collect(const BlobId& tree, const std::string& path, AffectedSnapshot& a,
                 std::size_t depth = 1) {
        auto add = [&](const std::string& p) {
            a.paths_total++;
            if (a.paths.size() < kMaxReportedPaths) a.paths.push_back(p);
        };
        if (a.paths.size() >= kMaxReportedPaths || depth > format::kMaxTreeDepth) {
            const std::uint64_t n = damaged_paths(tree, depth);
            a.paths_total = n > UINT64_MAX - a.paths_total ? UINT64_MAX : a.paths_total + n;
            return;
        }
        std::vector<TreeEntry> entries;
        if (bad_.count(tree)) {
            add(path + "/");
            return;
        }
        try {
            entries = repo_.load_tree(tree);
        } catch (const StoreError&) {
            add(path + "/");
            return;
        }
        for (const auto& e : entries) {
            const std::string p = path + "/" + e.name;
            if (e.type == EntryType::Dir) {
                if (damaged(e.subtree, depth + 1)) collect(e.subtree, p, a, depth + 1);
                continue;
            }
            if (bad_file(e)) add(p);
        }
    }

    void find_affected() {
        for (auto& a : damaged_records_) report_.affected.push_back(std::move(a));
        if (bad_.empty() && mismatched_.empty()) return;
        std::uint64_t done = 0;
        for (const auto& s : records_) {
            progress("report", done++, records_.size());
            if (!damaged(s.rec.root)) continue;
            if (snapshot_gone(s)) continue;
            AffectedSnapshot a;
            a.id = s.id;
            a.snapshot = s;
            collect(s.rec.root, "", a);
            if (a.paths.empty()) a.paths.push_back("/");
            if (a.paths_total == 0) a.paths_total = 1;
            report_.affected.push_back(std::move(a));
        }
    }

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
    std::unordered_map<BlobId, std::string, BlobIdHash> bad_;
    std::unordered_set<ChunkRef, ChunkRefHash> mismatched_;  // references whose size is wrong
    std::unordered_map<BlobId, bool, BlobIdHash> memo_;
    std::unordered_map<BlobId, std::uint64_t, BlobIdHash> count_memo_;
};

void check_options(const VerifyOptions& o) {
    if (o.read_data == VerifyOptions::ReadData::Percent && !(o.percent > 0 && o.percent <= 100))
        throw_usage("the read-data subset must be more than 0% and at most 100%");
    if (o.read_data == VerifyOptions::ReadData::Slice &&
        (o.slices == 0 || o.slice == 0 || o.slice > o.slices))
        throw_usage("the read-data subset n/m needs 1 <= n <= m");
}

}  // namespace

void parse_read_data_subset(const std::string& text, VerifyOptions& opts) {
    auto bad = [&]() {
        throw_usage("--read-data-subset takes a share like 10% or a slice like 2/7, not \"" + text +
                    "\"");
    };
    try {
        if (!text.empty() && text.back() == '%') {
            std::size_t used = 0;
            double v = std::stod(text.substr(0, text.size() - 1), &used);
            if (used != text.size() - 1) bad();
            opts.read_data = VerifyOptions::ReadData::Percent;
            opts.percent = v;
        } else if (auto slash = text.find('/'); slash != std::string::npos) {
            std::size_t u1 = 0, u2 = 0;
            unsigned long n = std::stoul(text.substr(0, slash), &u1);
            unsigned long m = std::stoul(text.substr(slash + 1), &u2);
            if (u1 != slash || u2 != text.size() - slash - 1 || m > UINT32_MAX) bad();
            opts.read_data = VerifyOptions::ReadData::Slice;
            opts.slice = static_cast<std::uint32_t>(n);
            opts.slices = static_cast<std::uint32_t>(m);
        } else {
            bad();
        }
    } catch (const std::logic_error&) {  // stod/stoul: not a number
        bad();
    }
    check_options(opts);
}

VerifyReport verify(Repository& repo, const VerifyOptions& opts) {
    check_options(opts);
    std::string cannot_record;
    if (opts.read_data != VerifyOptions::ReadData::None) {
        try {
            repo.open_index_writable();  // to record last_verified
        } catch (const StoreError& e) {
            cannot_record = e.what();
        }
    }
    return Verifier(repo, opts).run(cannot_record);
}

VerifyReport verify_without_index(Repository& repo, const std::string& index_error,
                                  const VerifyOptions& opts) {
    check_options(opts);
    return Verifier(repo, opts).run_without_index(index_error);
}

}  // namespace strata
