#include "tools/archive_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <map>
#include <optional>

#include "store/base/errors.h"
#include "tools/command.h"

namespace strata::cli {
namespace {

// Zeros written for a hole at a time (a tar writer skips them; raw output and zip need them).
constexpr std::size_t kZeroBlock = 64u << 10;

// A POSIX ACL as Linux stores it in system.posix_acl_access/default: a 4-byte version (2), then
// 8-byte entries {u16 tag, u16 perm, u32 id}, little-endian. Adds it to `entry` as archive ACL
// entries of `type`, so tar writes SCHILY.acl.* (what GNU tar --acls and bsdtar restore). False
// (nothing added) if the value is not such a list.
bool add_posix_acl(archive_entry* entry, const std::string& value, int type) {
    auto u16 = [&](std::size_t i) {
        return static_cast<unsigned>(static_cast<unsigned char>(value[i])) |
               static_cast<unsigned>(static_cast<unsigned char>(value[i + 1])) << 8;
    };
    auto u32 = [&](std::size_t i) { return u16(i) | u16(i + 2) << 16; };
    if (value.size() < 4 || (value.size() - 4) % 8 != 0 || u32(0) != 2) return false;
    struct Acl {
        int tag, perm, id;
    };
    std::vector<Acl> acl;
    for (std::size_t i = 4; i < value.size(); i += 8) {
        int tag;
        switch (u16(i)) {
            case 0x01:
                tag = ARCHIVE_ENTRY_ACL_USER_OBJ;
                break;
            case 0x02:
                tag = ARCHIVE_ENTRY_ACL_USER;
                break;
            case 0x04:
                tag = ARCHIVE_ENTRY_ACL_GROUP_OBJ;
                break;
            case 0x08:
                tag = ARCHIVE_ENTRY_ACL_GROUP;
                break;
            case 0x10:
                tag = ARCHIVE_ENTRY_ACL_MASK;
                break;
            case 0x20:
                tag = ARCHIVE_ENTRY_ACL_OTHER;
                break;
            default:
                return false;
        }
        // Linux's permission bits (4 read, 2 write, 1 execute) are libarchive's.
        acl.push_back({tag, static_cast<int>(u16(i + 2) & 7), static_cast<int>(u32(i + 4))});
    }
    for (const auto& a : acl)
        archive_entry_acl_add_entry(entry, type, a.perm, a.tag, a.id, nullptr);
    return true;
}
// ArchiveStream through libarchive's writer, its output going to the sink through write_cb.
class LibarchiveStream final : public ArchiveStream {
  public:
    LibarchiveStream(ArchiveFormat format, StdoutSink& out, CliIo& io)
        : format_(format), out_(out), io_(io), a_(archive_write_new()) {
        if (!a_) throw std::bad_alloc();
        if (format == ArchiveFormat::Tar) {
            // pax: nanosecond times, long names, xattrs, ACLs and GNU sparse 1.0 maps.
            archive_write_set_format_pax(a_);
            // Extended attributes as SCHILY.xattr.NAME only, which GNU tar and bsdtar both read
            // (libarchive's own LIBARCHIVE.xattr copy makes GNU tar warn for every file).
            archive_write_set_format_option(a_, "pax", "xattrheader", "SCHILY");
        } else {
            archive_write_set_format_zip(a_);
            archive_write_set_bytes_in_last_block(a_, 1);
        }
        if (archive_write_open2(a_, this, nullptr, &LibarchiveStream::write_cb, nullptr, nullptr) !=
            ARCHIVE_OK)
            fail("cannot start the archive");
    }
    ~LibarchiveStream() override {
        closed_ = true;  // write_cb: nothing more reaches the output
        archive_write_free(a_);
    }
    LibarchiveStream(const LibarchiveStream&) = delete;
    LibarchiveStream& operator=(const LibarchiveStream&) = delete;

    bool add(RepositoryReader& repo, const TreeEntry& e, const std::string& path) override {
        if (e.type == EntryType::Socket) {
            warn(path, "a socket cannot be archived; left out");
            return true;  // as GNU tar does: not an error
        }
        std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                       archive_entry_free);
        archive_entry* x = entry.get();
        archive_entry_copy_pathname(x, path.c_str());
        archive_entry_set_perm(x, e.mode & 07777);
        archive_entry_set_uid(x, e.uid);
        archive_entry_set_gid(x, e.gid);
        if (!e.user.empty()) archive_entry_copy_uname(x, e.user.c_str());
        if (!e.group.empty()) archive_entry_copy_gname(x, e.group.c_str());
        set_mtime(x, e);
        archive_entry_set_nlink(x, e.nlink);
        bool content = false;
        switch (e.type) {
            case EntryType::File: {
                archive_entry_set_filetype(x, AE_IFREG);
                auto first = e.link_group ? links_.find(e.link_group) : links_.end();
                if (first != links_.end() && format_ == ArchiveFormat::Tar) {
                    archive_entry_copy_hardlink(x, first->second.c_str());
                    archive_entry_set_size(x, 0);
                } else {
                    if (e.link_group) links_.emplace(e.link_group, path);
                    archive_entry_set_size(x, static_cast<la_int64_t>(e.size));
                    if (format_ == ArchiveFormat::Tar) add_sparse_map(x, e);
                    content = true;
                }
                break;
            }
            case EntryType::Dir:
                archive_entry_set_filetype(x, AE_IFDIR);
                break;
            case EntryType::Symlink:
                archive_entry_set_filetype(x, AE_IFLNK);
                archive_entry_copy_symlink(x, e.target.c_str());
                break;
            case EntryType::Fifo:
                archive_entry_set_filetype(x, AE_IFIFO);
                break;
            case EntryType::CharDev:
            case EntryType::BlockDev:
                archive_entry_set_filetype(x, e.type == EntryType::CharDev ? AE_IFCHR : AE_IFBLK);
                archive_entry_set_rdev(x, static_cast<dev_t>(e.rdev));
                break;
            case EntryType::Socket:
                break;
        }
        if (format_ == ArchiveFormat::Tar) add_xattrs(x, e);
        int rc = archive_write_header(a_, x);
        if (rc == ARCHIVE_FATAL) fail(path);
        if (rc == ARCHIVE_FAILED) {
            warn(path, library_message(path) + "; left out");
            return false;
        }
        if (rc == ARCHIVE_WARN) warn(path, library_message(path));
        if (content)
            stream_content(repo, e, path, [&](const std::uint8_t* p, std::size_t n) {
                while (n > 0) {
                    la_ssize_t w = archive_write_data(a_, p, n);
                    if (w <= 0) fail(path);
                    p += w;
                    n -= static_cast<std::size_t>(w);
                }
            });
        if (archive_write_finish_entry(a_) == ARCHIVE_FATAL) fail(path);
        return true;
    }

    void close() override {
        if (archive_write_close(a_) != ARCHIVE_OK) fail("end of archive");
        closed_ = true;
    }

  private:
    static la_ssize_t write_cb(struct archive* a, void* self, const void* buf, size_t n) {
        auto* s = static_cast<LibarchiveStream*>(self);
        if (s->closed_) {
            archive_set_error(a, EIO, "the dump was abandoned");
            return -1;
        }
        try {
            s->out_.write(buf, n);
        } catch (const StoreError& e) {
            s->write_error_.emplace(e);
            archive_set_error(a, e.error_number() ? e.error_number() : EIO, "%s", e.what());
            return -1;
        }
        return static_cast<la_ssize_t>(n);
    }

    // After a fatal libarchive error: the output's own error as it was, else libarchive's.
    [[noreturn]] void fail(const std::string& where) {
        closed_ = true;
        if (write_error_) throw *write_error_;
        const char* why = archive_error_string(a_);
        throw StoreError(StoreError::Kind::Io, "cannot write the archive at " + printable(where) +
                                                   ": " + (why ? why : "unknown error"));
    }

    // libarchive's message about the entry at `path`, without the path it may start with.
    std::string library_message(const std::string& path) const {
        const char* m = archive_error_string(a_);
        std::string why = m ? m : "unknown error";
        if (why.starts_with(path + ": ")) why.erase(0, path.size() + 2);
        return why;
    }

    void warn(const std::string& path, const std::string& why) {
        io_.err << "warning: " << printable(path) << ": " << why << "\n";
    }

    // libarchive's pax writer prints a time as its seconds, then ".nanoseconds": right after
    // 1970, but before it (seconds < 0) "-5.25" reads as -5.25 where -4.75 was meant. Such a
    // time is written truncated to its whole second, the closest pax can be made to say.
    void set_mtime(archive_entry* x, const TreeEntry& e) {
        if (format_ == ArchiveFormat::Tar && e.mtime_sec < 0 && e.mtime_nsec > 0)
            archive_entry_set_mtime(x, static_cast<time_t>(e.mtime_sec + 1), 0);
        else
            archive_entry_set_mtime(x, static_cast<time_t>(e.mtime_sec), e.mtime_nsec);
    }

    // A file with holes gets a sparse map of its data regions (adjacent chunks joined); the
    // writer then skips the zeros stream_content hands it for the holes.
    static void add_sparse_map(archive_entry* x, const TreeEntry& e) {
        if (e.data_size() == e.size) return;
        std::uint64_t start = 0, end = 0;
        bool open = false;
        for (const auto& c : e.chunks) {
            if (open && c.offset == end) {
                end += c.size;
                continue;
            }
            if (open)
                archive_entry_sparse_add_entry(x, static_cast<la_int64_t>(start),
                                               static_cast<la_int64_t>(end - start));
            start = c.offset;
            end = c.offset + c.size;
            open = true;
        }
        if (open)
            archive_entry_sparse_add_entry(x, static_cast<la_int64_t>(start),
                                           static_cast<la_int64_t>(end - start));
        else  // all hole: an empty region at the end, as GNU tar maps such a file
            archive_entry_sparse_add_entry(x, static_cast<la_int64_t>(e.size), 0);
    }

    static void add_xattrs(archive_entry* x, const TreeEntry& e) {
        for (const auto& xa : e.xattrs) {
            if (xa.name == "system.posix_acl_access" &&
                add_posix_acl(x, xa.value, ARCHIVE_ENTRY_ACL_TYPE_ACCESS))
                continue;
            if (xa.name == "system.posix_acl_default" &&
                add_posix_acl(x, xa.value, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT))
                continue;
            archive_entry_xattr_add_entry(x, xa.name.c_str(), xa.value.data(), xa.value.size());
        }
    }

    ArchiveFormat format_;
    StdoutSink& out_;
    CliIo& io_;
    archive* a_;
    bool closed_ = false;
    std::optional<StoreError> write_error_;
    std::map<std::uint64_t, std::string> links_;  // link group -> the path that holds the data
};
}  // namespace

void StdoutSink::write(const void* data, std::size_t n) {
    auto p = static_cast<const char*>(data);
    if (io_.out_fd < 0) {
        io_.out.write(p, static_cast<std::streamsize>(n));
        if (!io_.out) throw_io("cannot write to standard output", EIO);
        return;
    }
    while (n > 0) {
        ssize_t w = ::write(io_.out_fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw_io("cannot write to standard output", errno);
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void stream_content(RepositoryReader& repo, const TreeEntry& e, const std::string& path,
                    const std::function<void(const std::uint8_t*, std::size_t)>& sink) {
    static const Bytes zeros(kZeroBlock, 0);
    std::uint64_t at = 0;
    auto holes = [&](std::uint64_t until) {
        while (at < until) {
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), until - at));
            sink(zeros.data(), n);
            at += n;
        }
    };
    for (const auto& c : e.chunks) {
        holes(c.offset);
        Bytes data;
        try {
            data = repo.load_data(c.id);
        } catch (const StoreError& err) {
            throw StoreError(err.kind(), printable(path) + ": " + err.what(), err.error_number());
        }
        if (data.size() != c.size)
            throw_corruption(printable(path) + ": chunk " + c.id.short_hex() + " holds " +
                             std::to_string(data.size()) + " bytes, the tree says " +
                             std::to_string(c.size));
        sink(data.data(), data.size());
        at += data.size();
    }
    holes(e.size);
}

std::unique_ptr<ArchiveStream> open_archive_stream(ArchiveFormat format, StdoutSink& out,
                                                   CliIo& io) {
    return std::make_unique<LibarchiveStream>(format, out, io);
}

}  // namespace strata::cli
