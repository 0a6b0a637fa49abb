// Writes the seed corpora of the fuzz targets from real encodings made by store/, so that fuzzing
// starts from valid inputs and mutates outward. Usage: make_fuzz_corpus <corpus dir>
// (tests/fuzz/corpus; one sub-folder per target). Deterministic: the same build writes the same
// files, named by the SHA-256 of their content like libFuzzer's own.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "store/format/compress.h"
#include "store/base/hash.h"
#include "store/index/index.h"
#include "store/format/index_object.h"
#include "store/format/pack.h"
#include "tests/testlib/pack_builder.h"
#include "store/format/snapshot.h"
#include "store/format/tree.h"

using namespace strata;

namespace {

std::string g_root;

void emit(const std::string& target, ByteView content) {
    const std::string dir = g_root + "/" + target;
    ::mkdir(g_root.c_str(), 0755);
    ::mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/" + sha256(content).hex(), std::ios::binary)
        .write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
}
void emit(const std::string& target, const std::string& text) { emit(target, as_bytes(text)); }

Bytes pattern(std::size_t n, std::uint8_t seed) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 31 + seed) % 251);
    return b;
}

TreeEntry file_entry(const std::string& name, std::uint64_t size) {
    TreeEntry t;
    t.name = name;
    t.type = EntryType::File;
    t.mode = 0644;
    t.uid = t.gid = 1000;
    t.user = t.group = "alice";
    t.mtime_sec = 1700000000;
    t.mtime_nsec = 5;
    t.size = size;
    if (size > 0) t.chunks.push_back({0, sha256(pattern(size, 1)), static_cast<std::uint32_t>(size)});
    return t;
}

void packs() {
    for (int blobs : {0, 1, 3}) {
        PackBuilder b;
        for (int i = 0; i < blobs; ++i) {
            Bytes plain = pattern(100 + 50 * i, static_cast<std::uint8_t>(i));
            Compressed c = compress_blob(plain, 3);
            ByteView stored = c.codec == format::Codec::Raw ? ByteView(plain) : ByteView(c.data);
            b.add(sha256(plain), i % 2 ? format::BlobType::Tree : format::BlobType::Data, c.codec,
                  stored, static_cast<std::uint32_t>(plain.size()));
        }
        BlobId id;
        emit("pack", b.finish(id));
    }
}

std::vector<TreeEntry> sample_tree() {
    std::vector<TreeEntry> v;
    TreeEntry dir;
    dir.name = "dir";
    dir.type = EntryType::Dir;
    dir.mode = 0755;
    dir.subtree = sha256(as_bytes("subtree"));
    v.push_back(dir);
    TreeEntry sparse = file_entry("sparse", 1 << 20);
    sparse.chunks = {{4096, sha256(as_bytes("a")), 100}, {65536, sha256(as_bytes("b")), 200}};
    sparse.xattrs = {{"user.a", "1"}, {"user.b", std::string("\0x", 2)}};
    sparse.nlink = 2;
    sparse.link_group = 9;
    v.push_back(sparse);
    TreeEntry link;
    link.name = "link";
    link.type = EntryType::Symlink;
    link.target = "../elsewhere";
    link.size = link.target.size();
    v.push_back(link);
    TreeEntry dev;
    dev.name = "null";
    dev.type = EntryType::CharDev;
    dev.rdev = 0x103;
    v.push_back(dev);
    v.push_back(file_entry("small", 10));
    return v;
}

void trees() {
    emit("tree", encode_tree({}));
    emit("tree", encode_tree({file_entry("a", 0)}));
    emit("tree", encode_tree(sample_tree()));
}

void snapshots() {
    SnapshotRecord r;
    r.time_sec = 1700000000;
    r.time_nsec = 42;
    r.host = "host";
    r.paths = {"/home/alice"};
    r.root = sha256(as_bytes("root"));
    r.root_meta.type = EntryType::Dir;
    r.root_meta.mode = 0755;
    r.root_meta.subtree = r.root;
    emit("snapshot", encode_snapshot(r));
    r.tags = {"daily", "work"};
    r.note = "before the upgrade";
    r.parent = sha256(as_bytes("parent"));
    r.files = 10, r.dirs = 2, r.bytes = 12345, r.bytes_added = 100, r.blobs_added = 3;
    r.duration_ns = 1000000;
    r.partial = true;
    r.root_meta.xattrs = {{"user.x", "y"}};
    emit("snapshot", encode_snapshot(r));
}

void index_values() {
    for (auto [type, codec] : {std::pair{format::BlobType::Data, format::Codec::Zstd},
                               std::pair{format::BlobType::Tree, format::Codec::Raw}}) {
        Bytes v{0};
        Bytes loc = encode_location({3, 4096, 1000, 2000, type, codec});
        v.insert(v.end(), loc.begin(), loc.end());
        emit("index_values", v);
    }
    Bytes v{1};
    Bytes p = encode_pack_info({7, sha256(as_bytes("pack")), 33554432, 120, 1700000000});
    v.insert(v.end(), p.begin(), p.end());
    emit("index_values", v);
}

void decompress() {
    for (std::size_t n : {0, 1, 1000, 70000}) {
        Bytes plain = pattern(n, 3);
        for (int i = 0; i < static_cast<int>(n); i += 7) plain[static_cast<std::size_t>(i)] = 0;
        Compressed c = compress_blob(plain, 3);
        Bytes in{static_cast<std::uint8_t>(c.codec), std::uint8_t(n), std::uint8_t(n >> 8),
                 std::uint8_t(n >> 16), std::uint8_t(n >> 24)};
        const Bytes& stored = c.codec == format::Codec::Raw ? plain : c.data;
        in.insert(in.end(), stored.begin(), stored.end());
        emit("decompress", in);
    }
}

void configs() {
    // The layout Repository::init writes (store/repo/repository.cpp), default and small chunkers.
    const std::string head = "strata repository\nversion = 1\nid = " + sha256(as_bytes("id")).hex() +
                             "\nchunker = gear-fastcdc-v1\n";
    emit("repo_config", head + "chunk_min = 262144\nchunk_avg = 1048576\nchunk_max = 4194304\nzstd_level = 3\n");
    emit("repo_config", head + "# comment\n\nchunk_min = 1024\nchunk_avg = 4096\nchunk_max = 16384\nzstd_level = 19\n");
}

void index_objects() {
    emit("index_object", encode_index_object({}));
    IndexObject object;
    std::vector<IndexedPack>& packs = object.packs;
    for (int blobs : {0, 1, 3}) {
        IndexedPack p{sha256(pattern(8, static_cast<std::uint8_t>(blobs))), 0, {}};
        std::uint64_t offset = 0;
        for (int i = 0; i < blobs; ++i) {
            const std::uint32_t stored = 100 + 50 * static_cast<std::uint32_t>(i);
            p.entries.push_back({sha256(pattern(stored, static_cast<std::uint8_t>(i))),
                                 i % 2 ? format::BlobType::Tree : format::BlobType::Data,
                                 format::Codec::Zstd, offset, stored, stored * 2});
            offset += stored;
        }
        p.size = offset + encode_pack_trailer(p.entries).size() + format::kPackFooterSize;
        packs.push_back(p);
        emit("index_object", encode_index_object(object));
    }
    // With records (their bytes need not be a snapshot: the decoder checks only the id).
    for (int i = 0; i < 2; ++i) {
        Bytes record = pattern(40 + 30 * static_cast<std::size_t>(i), static_cast<std::uint8_t>(i));
        object.records.push_back({sha256(record), record});
        emit("index_object", encode_index_object(object));
    }
}

void lock_holders() {
    emit("lock_holder", std::string("pid 4242\nhost backup-host\nsince 1700000000\npurpose ingest\n"));
    emit("lock_holder", std::string("pid 1\nhost h\nsince 0\npurpose prune\n"));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_fuzz_corpus <corpus dir>\n";
        return 2;
    }
    g_root = argv[1];
    packs();
    trees();
    snapshots();
    index_values();
    decompress();
    configs();
    lock_holders();
    index_objects();
    return 0;
}
