// What this host has seen of a repository, to notice a rollback (docs/repository-format.md,
// "Rollback"): the ids of the snapshots it listed, kept in <cache root>/<repository id>/
// seen-snapshots. A snapshot seen before and gone now must be named by a forget record
// (forgotten/<id>, which only a holder of the key can make in an encrypted repository), else the
// repository went back in time or lost a record: the host is told, every time, until the state
// file is removed.
//
// Threads: one thread at a time per object; processes may race on the state file (it is
// replaced whole, so at worst a listing is not remembered).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/base/hash.h"
#include "store/format/blob_codec.h"

namespace strata {

// A forget record's content: the snapshots one forget removed, when and where.
struct ForgetRecord {
    std::vector<BlobId> snapshots;
    std::int64_t time = 0;
    std::string host;
};
Bytes encode_forget_record(const ForgetRecord& r);
ForgetRecord decode_forget_record(ByteView data);  // throws Corruption

// Stores the forget record of `snapshots` in `objects`, durably, before they are removed.
void write_forget_record(ObjectStore& objects, const BlobCodec& codec,
                         const std::vector<BlobId>& snapshots);

class RollbackCheck {
  public:
    // `state_file`: where the ids seen are kept ("" for none: nothing is checked).
    explicit RollbackCheck(std::string state_file) : file_(std::move(state_file)) {}

    // Compares the snapshots now listed with those seen before; returns one warning per snapshot
    // that vanished without a forget record (read from `objects` only when some vanished), once
    // per process, and remembers `listed` together with those still unexplained.
    std::vector<std::string> check(const std::set<BlobId>& listed, ObjectStore& objects,
                                   const BlobCodec& codec, const std::string& location);

  private:
    std::string file_;
    std::set<BlobId> saved_;  // what the file held when last read or written
    std::set<BlobId> told_;   // vanished snapshots this process warned of already
    bool loaded_ = false;
};

}  // namespace strata
