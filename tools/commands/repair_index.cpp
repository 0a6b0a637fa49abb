#include <iostream>
#include <memory>
#include <optional>

#include "store/format/format.h"
#include "store/index/index.h"
#include "store/repo/repository.h"
#include "store/maintenance/verify.h"
#include "tools/command.h"

namespace strata::cli {

int cmd_repair_index(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata repair-index REPO");
    add_common_options(opts, false);
    std::vector<std::string> pos;
    auto vm = parse(args, opts, pos);
    if (vm.count("help")) {
        io.out << opts;
        return kOk;
    }
    std::string repo_dir = repo_path(vm, pos);
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    auto repo = Repository::open_for_repair(repo_dir);
    auto lock = repo->lock_for_writing("repair-index");
    // The index being replaced may still know where the blobs of a pack whose trailer is lost
    // lie. It is read only if a child process could read it without crashing (a damaged LMDB
    // file can make LMDB fault), and only when such a pack is met.
    std::optional<bool> previous_readable;
    std::unique_ptr<BlobIndex> previous_index;
    auto previous = [&](const BlobId& pack_id) {
        std::vector<PackEntry> out;
        if (!previous_readable) {
            previous_readable = probe_index(repo_dir).empty();
            if (*previous_readable)
                previous_index = std::make_unique<BlobIndex>(repo_dir + "/" + format::kIndexDir,
                                                             BlobIndex::Access::ReadOnly);
        }
        if (!previous_index) return out;
        std::optional<std::uint32_t> seq;
        for (const auto& p : previous_index->packs())
            if (p.id == pack_id) seq = p.seq;
        if (!seq) return out;
        previous_index->for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
            if (loc.pack == *seq) out.push_back({id, loc.type, loc.codec, loc.offset, loc.stored_size, loc.raw_size});
        });
        return out;
    };
    auto r = repo->repair_index(previous);
    previous_index.reset();
    lock.reset();
    compact_index(*repo, io);
    for (const auto& p : r.problems) io.err << "problem: " << p << "\n";
    io.out << "index rebuilt: " << r.packs << " packs, " << r.blobs << " blobs, " << r.snapshots
           << " snapshots\n";
    return r.problems.empty() ? kOk : kFailure;
}

}  // namespace strata::cli
