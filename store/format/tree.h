// Trees: one blob per directory listing its entries sorted by name (bytewise), content-addressed,
// so an unchanged directory encodes to the same blob and costs nothing in the next snapshot.
// Layout: docs/repository-format.md, "Trees".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/base/bytes.h"
#include "store/base/hash.h"

namespace strata {

enum class EntryType : std::uint8_t {
    File = 1,
    Dir = 2,
    Symlink = 3,
    Fifo = 4,
    Socket = 5,
    CharDev = 6,
    BlockDev = 7,
};

// A piece of file content: `size` bytes at `offset` in the file are the blob `id`. Ranges of a file
// covered by no chunk are holes (read as zeros, restored sparse).
struct ChunkRef {
    std::uint64_t offset;
    BlobId id;
    std::uint32_t size;
};

struct Xattr {
    std::string name;  // with its namespace: "user.x", "system.posix_acl_access", …
    std::string value;

    bool operator==(const Xattr&) const = default;
};

struct TreeEntry {
    std::string name;  // any bytes but '/' and NUL; never "", "." or ".."
    EntryType type = EntryType::File;
    std::uint32_t mode = 0;  // permission bits including setuid, setgid and sticky (07777)
    std::uint32_t uid = 0, gid = 0;
    std::string user, group;  // names at ingest time; empty when unknown
    std::int64_t mtime_sec = 0;
    std::uint32_t mtime_nsec = 0;
    // Source identity, used only to detect unchanged files in the next ingest.
    std::int64_t ctime_sec = 0;
    std::uint32_t ctime_nsec = 0;
    std::uint64_t inode = 0, device = 0;
    std::uint64_t size = 0;  // logical file size (holes included); symlink target length
    std::uint32_t nlink = 1;
    std::uint64_t rdev = 0;        // device nodes
    std::uint64_t link_group = 0;  // non-zero: the files of a snapshot sharing it are hard links
    std::string target;            // symlinks
    std::vector<Xattr> xattrs;     // sorted by name
    std::vector<ChunkRef> chunks;  // files: ascending, non-overlapping, within size
    BlobId subtree;                // directories

    // Bytes of content actually stored (the size minus holes).
    std::uint64_t data_size() const;
};

Bytes encode_tree(const std::vector<TreeEntry>& entries);  // entries must be sorted by name
// Decodes and validates a tree: names well-formed and strictly ascending, chunks in bounds.
// Throws Corruption on anything else.
std::vector<TreeEntry> decode_tree(ByteView data);

// One entry, as stored inside a tree or (for a snapshot's root directory, whose name is empty)
// inside a snapshot record.
void encode_entry(Encoder& e, const TreeEntry& t);
TreeEntry decode_entry(Decoder& d, bool is_root);

// The entry named `name` among `entries` (a decoded tree, sorted by name), or nullptr.
const TreeEntry* find_entry(const std::vector<TreeEntry>& entries, std::string_view name);

// True if `name` may appear in a tree (not empty, ".", "..", no '/' or NUL).
bool valid_entry_name(std::string_view name);

}  // namespace strata
