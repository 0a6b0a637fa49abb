// A writer at work on a repository in an object store says so in a marker of its own,
// writers/<random> (docs/repository-format.md, "Deletion"): which deletion records its cache had
// seen when it took the lock, rewritten every few minutes while it runs, removed when it ends. A
// prune deletes the packs of a deletion record only when every live writer knew that record, so
// a backup that started before the prune and may still name those packs is waited for. A marker
// that has not been rewritten for kWriterExpirySeconds belongs to a writer that died: it holds
// nothing up for longer than that.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/backend/object_store.h"

namespace strata {

inline constexpr std::int64_t kWriterHeartbeatSeconds = 300;
inline constexpr std::int64_t kWriterExpirySeconds = 3600;

struct WriterAnnouncement {
    std::string name;          // writers/<32 hex>
    std::int64_t written = 0;  // when last rewritten (Unix seconds, the store's clock)
    std::string host, purpose;
    long pid = 0;
    std::vector<std::string> knows;  // names of the deletion records it had seen
};

class WriterMarker {
  public:
    // Writes the marker (knowing no deletion record yet) and starts rewriting it every
    // kWriterHeartbeatSeconds on a thread of its own.
    WriterMarker(ObjectStore& objects, const std::string& purpose);
    // Stops rewriting it and removes it (a failure to remove only leaves it to expire).
    ~WriterMarker();
    WriterMarker(const WriterMarker&) = delete;
    WriterMarker& operator=(const WriterMarker&) = delete;

    // Rewrites the marker naming the deletion records this writer's cache has seen.
    void set_known(const std::vector<std::string>& deletion_records);
    // Seconds since the marker was last written successfully (steady clock): a writer whose
    // marker may have expired must not trust what it knew about deletions.
    double seconds_since_written() const;
    const std::string& name() const { return name_; }

  private:
    void write();
    void heartbeat();

    ObjectStore& objects_;
    const std::string name_;
    std::string text_head_;  // host, pid, purpose lines
    std::vector<std::string> knows_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<std::int64_t> last_written_ns_{0};
    std::thread thread_;
};

// Every marker in writers/ (a malformed one counts as a live writer knowing nothing).
std::vector<WriterAnnouncement> list_writers(ObjectStore& objects);
// Fills host, pid, purpose and knows of `w` from a marker's text; leaves them as they are where the
// text does not say (a text without the marker's header says nothing). Never throws on any text.
void parse_writer_marker(const std::string& text, WriterAnnouncement& w);

// How long a marker stays live without being rewritten: kWriterExpirySeconds, or
// STRATA_TEST_WRITER_EXPIRY_SECONDS where a test sets it.
std::int64_t writer_expiry_seconds();

}  // namespace strata
