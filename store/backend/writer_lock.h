// The writer lock behind an interface: one writer at a time per repository
// (docs/repository-format.md, "locks/"). Where it lives is the backend's business; how long to
// wait for it and what to say when it is held is Repository::lock_for_writing's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace strata {

// Who holds a writer lock, as its holder recorded it (locks/writer for a local repository).
struct LockHolder {
    long pid = 0;
    std::string host;
    std::int64_t since = 0;  // Unix seconds
    std::string purpose;
};

// Held while a process writes to the repository. Released on destruction, and when the process
// dies, so a killed writer never leaves it stuck.
class WriterLock {
  public:
    virtual ~WriterLock() = default;
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

  protected:
    WriterLock() = default;
};

class WriterLockProvider {
  public:
    virtual ~WriterLockProvider() = default;
    // Takes the lock if nobody holds it, and records this process and `purpose` as its holder;
    // nullptr if another process holds it. Never waits. Throws Io if the lock cannot be used.
    virtual std::unique_ptr<WriterLock> try_lock(const std::string& purpose) = 0;
    // The holder last recorded (possibly by a writer that has finished since); nullopt if none.
    virtual std::optional<LockHolder> holder() = 0;
};

// The local lock: flock on <root>/locks/writer, whose content is the holder record.
std::unique_ptr<WriterLockProvider> open_local_writer_lock(const std::string& root);

// Parses the text of a lock file ("pid N host H since S purpose P"); nullopt for empty text.
// Never throws on malformed text: unknown or unreadable fields stay at their defaults.
std::optional<LockHolder> parse_lock_holder(const std::string& text);

}  // namespace strata
