// The read-data pass of verify: packs read once each, one after the other, in large sequential
// reads on the calling thread, and checked meanwhile on worker threads (one per core): the pack's
// own SHA-256 (its id and footer checksum), its footer's trailer length, and every listed blob
// decompressed and re-hashed.
//
// A pack is read in pieces of about kReadDataGroupBytes cut at blob boundaries; the reading thread
// feeds each piece to the pack's running SHA-256 and hands it to a worker, which decompresses and
// re-hashes the blobs in it. So every byte is read once and the pack is never held whole: memory
// stays near kReadDataBytesInFlight (plus one piece being read), whatever the pack size.
// Findings are handed back in the order the packs were given, on the calling thread, so reports
// do not depend on how the threads interleave.
//
// Threads: call from one thread; it starts and joins its own workers. The ObjectStore is used
// from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/base/hash.h"
#include "store/format/blob_codec.h"
#include "store/format/format.h"

namespace strata {

// Pieces are about this many bytes (more when a single blob is larger): large sequential reads,
// spread over every worker, and handing one over costs nothing next to checking it.
inline constexpr std::uint64_t kReadDataGroupBytes = 4u << 20;
// Bytes read and not yet checked: enough pieces to keep every worker of a small machine busy
// while the next piece is read, a small fraction of what whole-pack reads held.
inline constexpr std::uint64_t kReadDataBytesInFlight = 4 * kReadDataGroupBytes;

struct BlobToCheck {
    BlobId id;
    std::uint64_t offset = 0;
    std::uint32_t stored_size = 0, raw_size = 0;
    format::Codec codec = format::Codec::Raw;
    format::BlobType type = format::BlobType::Data;
};

struct PackToCheck {
    std::string name;            // object name, "packs/ab/ab….pack"
    bool check_checksum = true;  // false: its size was found wrong already, skip the checksum
    std::vector<BlobToCheck> blobs;
    // Its size as the store's listing gave it, so reading it costs no request for the size (one
    // per pack on an object store); nullopt: asked for when the pack is read.
    std::optional<std::uint64_t> listed_size;
};

struct PackFindings {
    bool missing = false;     // the file was not there, or vanished while read; ignore the rest
    std::uint64_t bytes = 0;  // read
    // Why the content does not match the pack's checksum or name, or the footer's trailer length
    // is wrong; "" when all is well (or the checksum was not checked).
    std::string checksum_problem;
    // For each entry of PackToCheck::blobs, in the same order: why it is damaged, "" when intact.
    std::vector<std::string> blob_problems;
};

// Checks `count` packs; `describe(i)` says what pack i is, `on_checked(i, pack, findings)` gets
// its findings, i ascending, on the calling thread (it may use the repository, throw, or report
// progress). `workers` 0 means one per core. Errors reading a pack other than NotFound propagate
// after the workers have stopped.
void check_packs_read_data(
    ObjectStore& objects, const BlobCodec& codec, std::size_t count,
    const std::function<PackToCheck(std::size_t)>& describe,
    const std::function<void(std::size_t, const PackToCheck&, const PackFindings&)>& on_checked,
    unsigned workers = 0);

}  // namespace strata
