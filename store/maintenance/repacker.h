// Prune's repacking: the blobs that survive from partly used packs copied into new packs
// (prune.cpp decides which). Internal to store/maintenance/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/format/pack.h"
#include "store/repo/repository.h"

namespace strata::pruning {

struct BlobToCopy {
    BlobId id;
    BlobLocation loc;
};

// Writes the blobs that survive from partly used packs into new packs, each durable and indexed
// (taking over its blobs' locations) before the next is started. A new pack is streamed to its
// temporary file blob by blob, so only the spans being read, checked and copied are in memory,
// never a whole pack.
class Repacker {
  public:
    explicit Repacker(Repository& repo) : repo_(repo) {}

    // Copies the used blobs `copies` (sorted by pack, then offset) out of their packs. They are
    // read in spans of up to kRepackReadBytes (a pack of small files holds thousands of blobs; a
    // read per blob cost a system call and a disk round trip each). Each span is read and checked
    // on a thread of its own, up to kRepackSpansAhead spans ahead of the one this thread writes:
    // the check (decompress and hash every blob) is most of the work, and so runs on every core.
    // Spans are taken back in order, so blobs are written in pack order and a damage report names
    // the first damaged blob in that order. Memory: 1 + kRepackSpansAhead spans.
    // `on_pack_done` is called after the last blob of each pack.
    void copy_all(const std::vector<BlobToCopy>& copies,
                  const std::unordered_map<std::uint32_t, PackInfo>& packs,
                  const std::function<void()>& on_pack_done);

    void finish();

    std::uint64_t packs_written = 0, bytes_written = 0;

  private:
    // Checks before copying: a damaged blob must not get a fresh pack checksum. Thread-safe.
    static void check(const BlobCodec& codec, const BlobToCopy& blob, const std::string& pack_name,
                      ByteView stored);

    void write(const BlobToCopy& blob, ByteView stored);

    Repository& repo_;
    std::unique_ptr<PackWriter> writer_;  // the pack being written, if any
};

}  // namespace strata::pruning
