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
#include "store/maintenance/verifier.h"
#include "store/maintenance/verify_read.h"
#include "store/repo/pending_deletion.h"

namespace strata::verification {

void Verifier::check_packs() {
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
        std::sort(blobs.begin(), blobs.end(),
                  [](const Located& a, const Located& b) { return a.loc.offset < b.loc.offset; });
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
        listed_size_[p.seq] = size;
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
                        "; " + std::to_string(lost) + " of its " + std::to_string(blobs.size()) +
                        " blob(s) lie past the end");
            size_reported_.insert(p.seq);
            continue;  // the trailer is not where it should be
        }
        std::vector<PackEntry> trailer;
        try {
            trailer = read_pack_trailer(repo_.objects(), repo_.codec(), name, size);
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
                e->raw_size == b.loc.raw_size && e->type == b.loc.type && e->codec == b.loc.codec)
                continue;
            disagree++;
            mark_bad(b.id, "the index and the trailer of " + name + " disagree about it");
        }
        if (disagree)
            problem("pack-trailer", name,
                    "the index and the pack's trailer disagree about " + std::to_string(disagree) +
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

PackToCheck Verifier::to_check(std::string name, const std::vector<Located>& blobs) {
    PackToCheck c;
    c.name = std::move(name);
    c.blobs.reserve(blobs.size());
    for (const auto& b : blobs)
        c.blobs.push_back(
            {b.id, b.loc.offset, b.loc.stored_size, b.loc.raw_size, b.loc.codec, b.loc.type});
    return c;
}

bool Verifier::record_findings(const PackToCheck& pack, const PackFindings& f, bool size_reported) {
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

std::vector<std::size_t> Verifier::select_packs() {
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

void Verifier::read_data() {
    const std::int64_t now = opts_.now ? opts_.now : static_cast<std::int64_t>(std::time(nullptr));
    const auto chosen = select_packs();
    std::uint64_t done = 0;
    check_packs_read_data(
        repo_.objects(), repo_.codec(), chosen.size(),
        [&](std::size_t k) {
            progress("read-data", done, chosen.size());
            const PackInfo& p = packs_[chosen[k]];
            PackToCheck c = to_check(pack_object_name(p.id), located_[chosen[k]]);
            c.check_checksum = !size_reported_.count(p.seq);
            if (auto it = listed_size_.find(p.seq); it != listed_size_.end())
                c.listed_size = it->second;
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

}  // namespace strata::verification
