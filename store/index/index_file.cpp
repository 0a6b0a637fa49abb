#include "store/index/index_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/base/crash_point.h"
#include "store/base/errors.h"
#include "store/base/unique_fd.h"

namespace strata {
namespace {

// LMDB's on-disk constants and offsets (liblmdb 0.9, mdb.c: MDB_page, MDB_meta, MDB_db), for a
// 64-bit build, where pgno_t, txnid_t and size_t are 8 bytes.
constexpr std::uint32_t kLmdbMagic = 0xBEEFC0DE;
constexpr std::uint32_t kLmdbDataVersion = 1;
constexpr std::uint16_t kPageFlagMeta = 0x08;              // P_META
constexpr std::uint64_t kInvalidPage = ~std::uint64_t{0};  // P_INVALID: an empty database's root
constexpr std::size_t kPageHeaderBytes = 16;  // mp_pgno, mp_pad, mp_flags, mp_lower, mp_upper
constexpr std::size_t kPageFlagsAt = 10;
// Inside MDB_meta, which follows the page header.
constexpr std::size_t kMagicAt = 0, kVersionAt = 4, kDbsAt = 24, kLastPageAt = 120, kTxnidAt = 128;
constexpr std::size_t kMetaBytes = 136;
// Inside MDB_db (48 bytes each; the free-page database first, then the main one). The free-page
// database's md_pad holds the page size (mm_psize).
constexpr std::size_t kDbBytes = 48, kDbPadAt = 0, kDbRootAt = 40;
constexpr std::uint32_t kMinPageSize = 512, kMaxPageSize = 65536;

std::uint64_t load(const unsigned char* p, std::size_t n) {  // native byte order, as LMDB writes
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
}

struct Meta {
    std::uint32_t page_size;
    std::uint64_t last_page, txnid, roots[2];
};

// Reads meta page `which` at `offset`; returns what is wrong with it, or "".
std::string read_meta(int fd, int which, std::uint64_t offset, Meta& m) {
    unsigned char buf[kPageHeaderBytes + kMetaBytes];
    ssize_t n;
    do {
        n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_io("read the index's meta page", errno);
    const std::string name = "meta page " + std::to_string(which);
    if (static_cast<std::size_t>(n) < sizeof buf) return name + " is cut off";
    if (!(load(buf + kPageFlagsAt, 2) & kPageFlagMeta)) return name + " is not marked as one";
    const unsigned char* meta = buf + kPageHeaderBytes;
    if (load(meta + kMagicAt, 4) != kLmdbMagic) return name + " lacks LMDB's magic number";
    if (load(meta + kVersionAt, 4) != kLmdbDataVersion)
        return name + " names LMDB data format " + std::to_string(load(meta + kVersionAt, 4)) +
               ", not " + std::to_string(kLmdbDataVersion);
    m.page_size = static_cast<std::uint32_t>(load(meta + kDbsAt + kDbPadAt, 4));
    m.last_page = load(meta + kLastPageAt, 8);
    m.txnid = load(meta + kTxnidAt, 8);
    for (int db = 0; db < 2; ++db) m.roots[db] = load(meta + kDbsAt + db * kDbBytes + kDbRootAt, 8);
    const std::uint32_t ps = m.page_size;
    if (ps < kMinPageSize || ps > kMaxPageSize || (ps & (ps - 1)) != 0)
        return name + " claims a page size of " + std::to_string(ps);
    return "";
}

// "28 pages of 4096 bytes, 114688 bytes", for a last page number of 27.
std::string page_count(std::uint64_t last_page, std::uint32_t page_size) {
    std::string s =
        std::to_string(last_page + 1) + " pages of " + std::to_string(page_size) + " bytes";
    if (last_page < (~std::uint64_t{0}) / page_size - 1)
        s += ", " + std::to_string((last_page + 1) * page_size) + " bytes";
    return s;
}

}  // namespace

std::string index_file_problem(const std::string& path, IndexFileFacts* facts) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw_io("open " + path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw_io("stat " + path, errno);
    if (!S_ISREG(st.st_mode)) return "it is not a regular file";
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (facts) facts->file_bytes = size;
    if (size == 0) return "it is empty (0 bytes)";

    pause_point("index-file-sized");  // tests: a writer commits here
    // As LMDB reads them: page 0 at the start, page 1 one page size (page 0's) further on.
    Meta metas[2];
    if (std::string why = read_meta(fd.get(), 0, 0, metas[0]); !why.empty()) return why;
    if (std::string why = read_meta(fd.get(), 1, metas[0].page_size, metas[1]); !why.empty())
        return why;
    if (metas[1].page_size != metas[0].page_size)
        return "its meta pages disagree on the page size (" + std::to_string(metas[0].page_size) +
               " and " + std::to_string(metas[1].page_size) + ")";
    // LMDB uses the meta with the larger transaction id.
    const Meta& m = metas[metas[0].txnid < metas[1].txnid ? 1 : 0];
    // The length again, after the metas: a writer's commit writes its pages (growing the file)
    // before its meta, so a meta read after the first fstat may name pages the file had not
    // reached then. Read in this order, a sound file being written meanwhile always holds
    // every page its newest meta names.
    if (::fstat(fd.get(), &st) != 0) throw_io("stat " + path, errno);
    const auto size_now = static_cast<std::uint64_t>(st.st_size);
    if (facts) facts->file_bytes = size_now;
    if (facts) {
        facts->page_size = m.page_size;
        facts->last_page = m.last_page;
        facts->txnid = m.txnid;
    }
    const std::uint64_t pages_in_file = size_now / m.page_size;
    if (m.last_page < 1 || m.last_page >= pages_in_file)
        return "it has " + std::to_string(size_now) + " bytes, but its meta page (transaction " +
               std::to_string(m.txnid) + ") says it holds " +
               (m.last_page < 1 ? std::string("fewer than its two meta pages")
                                : page_count(m.last_page, m.page_size)) +
               (m.last_page >= pages_in_file ? " (truncated)" : "");
    for (std::uint64_t root : m.roots)
        if (root != kInvalidPage && (root < 2 || root > m.last_page))
            return "its meta page names a root page (" + std::to_string(root) +
                   ") outside the file's " + std::to_string(m.last_page + 1) + " pages";
    return "";
}

}  // namespace strata
