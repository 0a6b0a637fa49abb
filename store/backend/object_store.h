// Where packs and snapshot records live: a small storage interface (whole-object put, ranged read,
// list, delete) so that an object store can hold them later without touching the rest of the
// store. Names are relative, '/'-separated ("packs/ab/ab12….pack").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/base/bytes.h"

namespace strata {

// An object being written piece by piece. It becomes visible only through commit(), atomically
// and durably; destroying an uncommitted writer discards what was written.
class ObjectWriter {
  public:
    virtual ~ObjectWriter() = default;
    virtual void append(ByteView data) = 0;
    virtual std::uint64_t size() const = 0;
    // Makes the object durable under `name`. The writer is finished afterwards.
    virtual void commit(const std::string& name) = 0;
};

// One object as a listing sees it.
struct ObjectInfo {
    std::string name;        // full name, as list's callers pass it to read or remove
    std::uint64_t size = 0;  // bytes
    std::int64_t mtime = 0;  // last modification, Unix seconds; 0 where the backend has none
};

class ObjectStore {
  public:
    virtual ~ObjectStore() = default;

    // Starts an object written in pieces (packs are streamed, never held whole in memory).
    virtual std::unique_ptr<ObjectWriter> create() = 0;
    // Stores `data` under `name` atomically and durably: when put returns, the object survives a
    // crash; if the process dies during put, the object is either absent or complete.
    virtual void put(const std::string& name, ByteView data) = 0;
    // Reads `len` bytes at `offset`; throws Corruption if the object is shorter, NotFound if
    // absent.
    virtual Bytes read(const std::string& name, std::uint64_t offset, std::size_t len) = 0;
    virtual Bytes read_all(const std::string& name) = 0;
    virtual std::uint64_t size(const std::string& name) = 0;
    virtual bool exists(const std::string& name) = 0;
    // Every object below the folder `prefix` (recursively), with its size and (where the backend
    // keeps one) its modification time, sorted by name. One call, however many objects: callers
    // that need sizes take them from here, not from size() per object.
    virtual std::vector<ObjectInfo> list(const std::string& prefix) = 0;
    // Removes `name` durably. Removing an absent object is not an error.
    virtual void remove(const std::string& name) = 0;
    // Removes what writes interrupted by a crash left behind (the local store: the files in
    // tmp/). Only for the holder of the writer lock: a running writer's unfinished objects would
    // go too.
    virtual void discard_partial_writes() = 0;
};

// The first implementation: a local directory. Writes go to <root>/tmp, are fsynced, renamed into
// place and the directory fsynced. Thread-safe; keeps a few file descriptors open for reads.
// Errors keep the errno (StoreError::error_number): NotFound for an absent object, Io with EACCES
// when permission is denied.
std::unique_ptr<ObjectStore> open_local_store(const std::string& root);

}  // namespace strata
