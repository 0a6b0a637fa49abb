// A fault-injecting ObjectStore for tests: it wraps a real store (normally open_local_store) and
// makes the N-th call of the chosen kinds fail with StoreError::Io carrying a chosen errno, the way
// the local store reports a refused write, read, listing or delete. Every call is counted, so a
// test can first run an operation fault-free to learn how many calls it makes, then fail each one
// in turn (the approach of LevelDB's fault-injecting Env).
//
// Threads: calls may come from several threads (the blob writer's workers); counting is locked.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/base/errors.h"
#include "store/backend/object_store.h"

namespace strata::testing {

enum class StoreCall : unsigned {
    Put = 1u << 0,
    Create = 1u << 1,
    Append = 1u << 2,  // ObjectWriter::append
    Commit = 1u << 3,  // ObjectWriter::commit
    Read = 1u << 4,    // read and read_all
    List = 1u << 5,
    Remove = 1u << 6,
};
inline constexpr unsigned kWriteCalls = unsigned(StoreCall::Put) | unsigned(StoreCall::Create) |
                                        unsigned(StoreCall::Append) | unsigned(StoreCall::Commit);

// Which calls fail, shared between the test and the store it handed to a Repository.
struct FaultPlan {
    unsigned kinds = 0;     // a mask of StoreCall; 0: never fail
    std::uint64_t nth = 0;  // 1-based among the calls of `kinds`; 0: never fail
    int error = EIO;
    bool sticky = false;  // fail every matching call from the nth on (a disk that stays full)

    // Filled in as calls happen.
    std::uint64_t calls = 0;     // calls of `kinds` so far
    std::uint64_t injected = 0;  // failures injected so far
    std::string failed_call;     // what the first injected failure refused, e.g. "put snapshots/…"
    // With `keep_log`: every call, of any kind, as "read packs/…", "list indexes", ...
    bool keep_log = false;
    std::vector<std::string> log;
    std::mutex mutex;

    // Counts a call of `kind` on `what`; throws the planned failure if this is the one.
    void on_call(StoreCall kind, const std::string& what) {
        std::lock_guard<std::mutex> lock(mutex);
        if (keep_log) log.push_back(what);
        if (!(kinds & unsigned(kind))) return;
        ++calls;
        if (nth == 0 || calls < nth || (calls > nth && !sticky)) return;
        if (injected++ == 0) failed_call = what;
        throw StoreError(StoreError::Kind::Io, "injected fault: " + what + ": " + std::strerror(error),
                         error);
    }
};

class FaultyObjectWriter final : public ObjectWriter {
public:
    FaultyObjectWriter(std::unique_ptr<ObjectWriter> inner, std::shared_ptr<FaultPlan> plan)
        : inner_(std::move(inner)), plan_(std::move(plan)) {}
    void append(ByteView data) override {
        plan_->on_call(StoreCall::Append, "append to a new object");
        inner_->append(data);
    }
    std::uint64_t size() const override { return inner_->size(); }
    void commit(const std::string& name) override {
        plan_->on_call(StoreCall::Commit, "commit " + name);
        inner_->commit(name);
    }

private:
    std::unique_ptr<ObjectWriter> inner_;
    std::shared_ptr<FaultPlan> plan_;
};

class FaultyObjectStore final : public ObjectStore {
public:
    FaultyObjectStore(std::unique_ptr<ObjectStore> inner, std::shared_ptr<FaultPlan> plan)
        : inner_(std::move(inner)), plan_(std::move(plan)) {}

    std::unique_ptr<ObjectWriter> create() override {
        plan_->on_call(StoreCall::Create, "create a new object");
        return std::make_unique<FaultyObjectWriter>(inner_->create(), plan_);
    }
    void put(const std::string& name, ByteView data) override {
        plan_->on_call(StoreCall::Put, "put " + name);
        inner_->put(name, data);
    }
    Bytes read(const std::string& name, std::uint64_t offset, std::size_t len) override {
        plan_->on_call(StoreCall::Read, "read " + name);
        return inner_->read(name, offset, len);
    }
    Bytes read_all(const std::string& name) override {
        plan_->on_call(StoreCall::Read, "read " + name);
        return inner_->read_all(name);
    }
    std::uint64_t size(const std::string& name) override { return inner_->size(name); }
    bool exists(const std::string& name) override { return inner_->exists(name); }
    std::vector<ObjectInfo> list(const std::string& prefix) override {
        plan_->on_call(StoreCall::List, "list " + prefix);
        return inner_->list(prefix);
    }
    void remove(const std::string& name) override {
        plan_->on_call(StoreCall::Remove, "remove " + name);
        inner_->remove(name);
    }
    void discard_partial_writes() override {
        plan_->on_call(StoreCall::List, "list tmp");
        inner_->discard_partial_writes();
    }

private:
    std::unique_ptr<ObjectStore> inner_;
    std::shared_ptr<FaultPlan> plan_;
};

}  // namespace strata::testing
