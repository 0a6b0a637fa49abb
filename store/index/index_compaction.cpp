#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "store/base/crash_point.h"
#include "store/base/unique_fd.h"
#include "store/index/index.h"
#include "store/index/lmdb_txn.h"

namespace strata {

using namespace index_lmdb;

namespace {

// Bytes one entry takes in a leaf page: LMDB's node header (8 bytes), key and value (the node
// padded to an even size), and its 2-byte slot in the page's offset array.
constexpr std::uint64_t leaf_entry_bytes(std::uint64_t key, std::uint64_t value) {
    return ((8 + key + value + 1) & ~std::uint64_t{1}) + 2;
}
constexpr std::uint64_t kPageHeaderBytes = 16;

std::uint64_t file_size(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw_io("stat " + path, errno);
    return static_cast<std::uint64_t>(st.st_size);
}

// Asks for (F_SETLK) or tests (F_GETLK) a write lock on the byte of lock.mdb that every process
// with the environment open holds a read lock on (LMDB's mdb_env_open takes it).
bool lock_byte_free(int fd, int cmd) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    if (::fcntl(fd, cmd, &fl) != 0) {
        if (errno == EAGAIN || errno == EACCES) return false;
        throw_io("lock the index's lock.mdb", errno);
    }
    return cmd == F_SETLK || fl.l_type == F_UNLCK;
}

}  // namespace

BlobIndex::SpaceUse BlobIndex::space_use() const {
    SpaceUse u;
    u.file_bytes = file_size(dir_ + "/data.mdb");
    Txn txn(env_, false);
    MDB_stat env_stat;
    check(mdb_env_stat(env_, &env_stat), "stat");
    const std::uint64_t page = env_stat.ms_psize, usable = page - kPageHeaderBytes;
    // Two meta pages and the main database (which names the five others).
    std::uint64_t pages = 3;
    auto add = [&](MDB_dbi dbi, std::uint64_t entry_bytes) {
        MDB_stat st;
        check(mdb_stat(txn.get(), dbi, &st), "stat");
        if (entry_bytes == 0) {  // variable-size values: count the pages they use now
            pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
            return;
        }
        const std::uint64_t per_page = usable / entry_bytes;
        const std::uint64_t leaves = (st.ms_entries + per_page - 1) / per_page;
        // A branch entry per leaf page (node header, key, no value), plus the root.
        pages += leaves + (leaves * leaf_entry_bytes(32, 0) + usable - 1) / usable + 1;
    };
    add(blobs_, leaf_entry_bytes(32, kBlobValueSize));
    add(packs_, leaf_entry_bytes(4, kPackValueSize));
    add(pack_ids_, leaf_entry_bytes(32, 4));
    add(snapshots_, 0);
    add(meta_, 0);
    u.compact_bytes = pages * page;
    return u;
}

void BlobIndex::copy_compacted(const std::string& path) {
    MDB_env* out = nullptr;
    check(mdb_env_create(&out), "create environment");
    try {
        check(mdb_env_set_mapsize(out, kMapSize), "set map size");
        check(mdb_env_set_maxdbs(out, 8), "set max dbs");
        // Nobody else knows the file yet: no lock file.
        check(mdb_env_open(out, path.c_str(), MDB_NOSUBDIR | MDB_NOLOCK, 0600),
              ("create " + path).c_str());
        Txn from(env_, false), to(out, true);
        for (auto [name, dbi] : tables()) {
            MDB_dbi target;
            check(mdb_dbi_open(to.get(), name, MDB_CREATE, &target),
                  (std::string("create ") + name).c_str());
            // In key order with MDB_APPEND, LMDB fills each page before starting the next.
            for_each_entry(from.get(), *dbi, "read the index to compact",
                           [&](MDB_cursor*, const MDB_val& k, const MDB_val& v) {
                               MDB_val key = k, value = v;
                               check(mdb_put(to.get(), target, &key, &value, MDB_APPEND),
                                     "copy into the compacted index");
                           });
        }
        to.commit();  // writes and fsyncs the new file
    } catch (...) {
        mdb_env_close(out);
        throw;
    }
    mdb_env_close(out);
}

BlobIndex::CompactionResult BlobIndex::compact(bool force) {
    CompactionResult r;
    const SpaceUse use = space_use();
    r.bytes_before = r.bytes_after = use.file_bytes;
    const bool wasteful = use.file_bytes >= use.compact_bytes * kCompactionRatio &&
                          use.file_bytes - use.compact_bytes >= kCompactionMinGain;
    if (!force && !wasteful) return r;

    const std::string lock_path = dir_ + "/lock.mdb", data_path = dir_ + "/data.mdb";
    if (lock_file_.get() < 0) {
        lock_file_ = UniqueFd(::open(lock_path.c_str(), O_RDWR | O_CLOEXEC));
        if (lock_file_.get() < 0) throw_io("open " + lock_path, errno);
    }
    if (!lock_byte_free(lock_file_.get(), F_GETLK)) {
        r.outcome = Compaction::InUse;
        return r;
    }
    const std::string fresh = data_path + ".compact";
    ::unlink(fresh.c_str());  // left by a compaction that was killed
    try {
        copy_compacted(fresh);
    } catch (...) {
        ::unlink(fresh.c_str());
        throw;
    }
    crash_point("index-compact-written");

    // From here until the environment is open again on the new file, this process holds the
    // write lock on the byte that mdb_env_open read-locks, so openers wait. Reopening while
    // holding it makes LMDB see itself alone and set lock.mdb up afresh: its reader table and
    // last transaction id describe the old file, and would mislead readers of the new one.
    mdb_env_close(env_);
    env_ = nullptr;
    if (!lock_byte_free(lock_file_.get(), F_SETLK)) {  // a reader opened it meanwhile
        ::unlink(fresh.c_str());
        open_environment(Access::ReadWrite);
        r.outcome = Compaction::InUse;
        return r;
    }
    int err = 0;
    std::string failed;
    if (::rename(fresh.c_str(), data_path.c_str()) != 0) {
        err = errno;
        failed = "replace " + data_path + " by its compacted copy";
        ::unlink(fresh.c_str());
    } else {
        crash_point("index-compact-renamed");
        UniqueFd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (d.get() < 0 || ::fsync(d.get()) != 0) {
            err = errno;
            failed = "fsync directory " + dir_;
        }
    }
    try {
        open_environment(Access::ReadWrite);  // turns the write lock into LMDB's read lock
    } catch (...) {
        lock_file_ = UniqueFd();  // no environment open: nothing of LMDB's to lose; lets openers in
        throw;
    }
    if (err != 0) throw_io(failed, err);
    r.outcome = Compaction::Done;
    r.bytes_after = file_size(data_path);
    return r;
}

}  // namespace strata
