#include "store/repository.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "store/compress.h"
#include "store/crash_point.h"
#include "store/format.h"
#include "store/index_probe.h"

namespace strata {
namespace {

std::string read_text(const std::string& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

RepoConfig parse_repo_config(const std::string& text, const std::string& where) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != "strata repository")
        throw StoreError(StoreError::Kind::Format,
                         where + " is not a strata repository config (first line is not "
                                 "\"strata repository\")");
    RepoConfig c;
    std::uint64_t seen = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find(" = ");
        if (eq == std::string::npos) throw_corruption(where + ": malformed line \"" + line + "\"");
        std::string key = line.substr(0, eq), value = line.substr(eq + 3);
        auto number = [&]() -> std::uint64_t {
            try {
                std::size_t used = 0;
                auto v = std::stoull(value, &used);
                // Every setting is 32-bit: a larger value must not wrap to a plausible one.
                if (used != value.size() || v > UINT32_MAX) throw std::invalid_argument(value);
                return v;
            } catch (const std::exception&) {
                throw_corruption(where + ": " + key + " is not a 32-bit unsigned number");
            }
        };
        if (key == "version") c.version = static_cast<std::uint32_t>(number()), seen |= 1;
        else if (key == "id") c.id = value, seen |= 2;
        else if (key == "chunker") {
            if (value != "gear-fastcdc-v1")
                throw StoreError(StoreError::Kind::Format, where + ": unknown chunker " + value);
        } else if (key == "chunk_min") c.chunker.min_size = static_cast<std::uint32_t>(number()), seen |= 4;
        else if (key == "chunk_avg") c.chunker.avg_size = static_cast<std::uint32_t>(number()), seen |= 8;
        else if (key == "chunk_max") c.chunker.max_size = static_cast<std::uint32_t>(number()), seen |= 16;
        else if (key == "zstd_level") c.zstd_level = static_cast<int>(number()), seen |= 32;
    }
    if (!(seen & 1)) throw_corruption(where + ": no version line");
    if (c.version > format::kRepositoryVersion)
        throw StoreError(StoreError::Kind::Format,
                         where + ": repository format " + std::to_string(c.version) +
                             " was created by a newer strata (this one reads up to format " +
                             std::to_string(format::kRepositoryVersion) + "); upgrade strata");
    if (seen != 63) throw_corruption(where + ": missing settings");
    if (c.chunker.max_size > format::kMaxBlobSize)
        throw_corruption(where + ": chunk_max above the format's blob limit");
    if (c.zstd_level < 1 || c.zstd_level > 19) throw_corruption(where + ": zstd_level is not 1 to 19");
    try {
        Chunker check(c.chunker);  // throws std::invalid_argument on inconsistent bounds
    } catch (const std::invalid_argument& e) {
        throw_corruption(where + ": " + e.what());
    }
    return c;
}

namespace {

std::string hostname() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

void mkdir_p(const std::string& p, mode_t mode) {
    if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST) throw_io("create " + p, errno);
}

bool dir_is_empty(const std::string& p) {
    DIR* d = ::opendir(p.c_str());
    if (!d) return false;
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    }
    ::closedir(d);
    return empty;
}

void remove_tree(const std::string& p) {
    DIR* d = ::opendir(p.c_str());
    if (!d) {
        ::unlink(p.c_str());
        return;
    }
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        std::string c = p + "/" + n;
        struct stat st;
        if (::lstat(c.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(c);
        else ::unlink(c.c_str());
    }
    ::closedir(d);
    ::rmdir(p.c_str());
}

}  // namespace

InitOptions default_init_options() {
    return {format::kDefaultZstdLevel,
            {format::kDefaultChunkMin, format::kDefaultChunkAvg, format::kDefaultChunkMax}};
}

WriterLock::~WriterLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

void Repository::init(const std::string& path, const InitOptions& opts) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) throw_usage(path + " exists and is not a directory");
        if (!dir_is_empty(path))
            throw_usage(path + " is not empty; choose a new or empty directory for the repository");
    } else if (errno != ENOENT) {
        throw_io("stat " + path, errno);
    }
    if (opts.zstd_level < 1 || opts.zstd_level > 19) throw_usage("zstd level must be 1 to 19");
    Chunker check(opts.chunker);
    if (opts.chunker.max_size > format::kMaxBlobSize) throw_usage("chunk max above 64 MiB");
    mkdir_p(path, 0700);
    for (const char* d : {format::kPackDir, format::kSnapshotDir, format::kLockDir, format::kTmpDir})
        mkdir_p(path + "/" + d, 0700);
    BlobIndex(path + "/" + format::kIndexDir, BlobIndex::Access::Create);
    std::random_device rd;
    Bytes id(32);
    for (auto& b : id) b = static_cast<std::uint8_t>(rd());
    std::ostringstream c;
    c << "strata repository\n"
      << "version = " << format::kRepositoryVersion << "\n"
      << "id = " << to_hex(id) << "\n"
      << "chunker = gear-fastcdc-v1\n"
      << "chunk_min = " << opts.chunker.min_size << "\n"
      << "chunk_avg = " << opts.chunker.avg_size << "\n"
      << "chunk_max = " << opts.chunker.max_size << "\n"
      << "zstd_level = " << opts.zstd_level << "\n";
    // The config is written last: a repository without one is an interrupted init.
    open_local_store(path)->put(format::kConfigFile, as_bytes(c.str()));
}

static RepoConfig load_config(const std::string& path) {
    const std::string cfg = path + "/" + format::kConfigFile;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        throw_not_found("repository " + path + " does not exist; create it with `strata init " +
                        path + "`");
    if (::stat(cfg.c_str(), &st) != 0)
        throw StoreError(StoreError::Kind::Format,
                         path + " is not a strata repository (no config file); create one with "
                                "`strata init`");
    if (st.st_size > 65536) throw_corruption(cfg + ": implausibly large");
    return parse_repo_config(read_text(cfg), cfg);
}

std::unique_ptr<Repository> Repository::open(const std::string& path) {
    return open(path, open_local_store(path));
}

std::unique_ptr<Repository> Repository::open(const std::string& path,
                                             std::unique_ptr<ObjectStore> objects) {
    RepoConfig config = load_config(path);
    // Before this process maps the index: a damaged one could crash it (store/index_probe.h).
    probe_index_or_throw(path);
    auto index = std::make_unique<BlobIndex>(path + "/" + format::kIndexDir, BlobIndex::Access::ReadOnly);
    return std::unique_ptr<Repository>(
        new Repository(path, std::move(config), std::move(objects), std::move(index)));
}

std::unique_ptr<Repository> Repository::open_for_repair(const std::string& path) {
    RepoConfig config = load_config(path);
    return std::unique_ptr<Repository>(
        new Repository(path, std::move(config), open_local_store(path), nullptr));
}

Repository::Repository(std::string path, RepoConfig config, std::unique_ptr<ObjectStore> objects,
                       std::unique_ptr<BlobIndex> index)
    : path_(std::move(path)),
      config_(std::move(config)),
      objects_(std::move(objects)),
      index_(std::move(index)) {}

std::optional<LockHolder> read_lock_holder(const std::string& repo_path) {
    return parse_lock_holder(read_text(repo_path + "/" + format::kLockDir + "/writer"));
}

std::optional<LockHolder> parse_lock_holder(const std::string& text) {
    if (text.empty()) return std::nullopt;
    LockHolder h;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {  // "key value", the value running to the end of the line
        auto space = line.find(' ');
        if (space == std::string::npos) continue;
        std::string key = line.substr(0, space), value = line.substr(space + 1);
        try {
            if (key == "pid") h.pid = std::stol(value);
            else if (key == "since") h.since = std::stoll(value);
        } catch (const std::exception&) {
            // A half-written lock file: show what can be read.
        }
        if (key == "host") h.host = value;
        else if (key == "purpose") h.purpose = value;
    }
    return h;
}

std::unique_ptr<WriterLock> Repository::lock_for_writing(const std::string& purpose,
                                                         double wait_seconds) {
    const std::string lock_dir = path_ + "/" + format::kLockDir;
    mkdir_p(lock_dir, 0700);
    const std::string p = lock_dir + "/writer";
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw_io("open lock file " + p, errno);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            ::close(fd);
            throw_io("lock " + p, e);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::close(fd);
            std::string who = "another process";
            if (auto h = read_lock_holder(path_)) {
                char when[64] = "?";
                std::time_t t = h->since;
                std::tm tm{};
                if (gmtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                who = "pid " + std::to_string(h->pid) + " on " + h->host + " (" + h->purpose +
                      ", since " + when + ")";
            }
            throw StoreError(StoreError::Kind::Locked,
                             "repository " + path_ + " is locked by " + who +
                                 "; wait for it to finish, or pass --lock-wait SECONDS");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::ostringstream rec;
    rec << "pid " << ::getpid() << "\nhost " << hostname() << "\nsince "
        << std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count()
        << "\npurpose " << purpose << "\n";
    std::string s = rec.str();
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, s.data(), s.size(), 0) < 0) {
        int e = errno;
        ::close(fd);
        throw_io("write lock file " + p, e);
    }
    std::unique_ptr<WriterLock> lock(new WriterLock(fd));
    clear_tmp();
    if (index_) {
        open_index_writable();  // readers open it read-only
        reconcile_snapshots();
    }
    return lock;
}

void Repository::open_index_writable() {
    index_.reset();  // LMDB forbids two environments on one file in a process
    const std::string dir = path_ + "/" + format::kIndexDir;
    try {
        index_ = std::make_unique<BlobIndex>(dir, BlobIndex::Access::ReadWrite);
    } catch (const StoreError&) {
        // Leave a usable read-only index behind: the caller may go on without writing.
        index_ = std::make_unique<BlobIndex>(dir, BlobIndex::Access::ReadOnly);
        throw;
    }
}

void Repository::clear_tmp() {
    for (const auto& name : objects_->list(format::kTmpDir)) objects_->remove(name);
}

void Repository::reconcile_snapshots() {
    // snapshots/ is the truth; an ingest killed after writing its record but before indexing it
    // counts as complete, and a record deleted by hand disappears from the index.
    std::vector<Snapshot> indexed = index_->snapshots();
    std::vector<std::string> files = objects_->list(format::kSnapshotDir);
    for (const auto& name : files) {
        auto id = BlobId::from_hex(name.substr(name.rfind('/') + 1));
        if (!id) continue;
        bool known = false;
        for (const auto& s : indexed) known = known || s.id == *id;
        if (known) continue;
        Bytes data = objects_->read_all(name);
        if (sha256(data) != *id) continue;  // damaged: verify reports it
        index_->put_snapshot({*id, decode_snapshot(data)});
    }
    for (const auto& s : indexed) {
        if (!objects_->exists(snapshot_object_name(s.id))) index_->remove_snapshot(s.id);
    }
}

std::vector<Snapshot> Repository::snapshots() {
    std::vector<Snapshot> indexed = index_->snapshots();
    // snapshots/ is the truth: a record made durable by an ingest killed before indexing it is
    // complete and shown; one removed by forget before its index entry went is not.
    std::vector<std::string> files = objects_->list(format::kSnapshotDir);
    std::set<BlobId> on_disk;
    for (const auto& name : files)
        if (auto id = BlobId::from_hex(name.substr(name.rfind('/') + 1))) on_disk.insert(*id);
    std::set<BlobId> known;
    std::vector<Snapshot> out;
    for (auto& s : indexed) {
        known.insert(s.id);
        if (on_disk.count(s.id)) out.push_back(std::move(s));
    }
    bool added = false;
    for (const auto& id : on_disk) {
        if (known.count(id)) continue;
        try {
            Bytes data = objects_->read_all(snapshot_object_name(id));
            if (sha256(data) != id) continue;  // damaged: verify reports it
            out.push_back({id, decode_snapshot(data)});
            added = true;
        } catch (const StoreError&) {
            // Gone meanwhile, or damaged: verify reports it.
        }
    }
    if (added)
        std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) {
            return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
                   std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
        });
    return out;
}

Bytes Repository::load_blob(const BlobId& id, format::BlobType expected) {
    auto loc = index_->find(id);
    if (!loc) throw_not_found("blob " + id.short_hex() + " is not in the index");
    if (loc->type != expected) throw_corruption("blob " + id.short_hex() + " has the wrong type");
    auto pack = index_->pack(loc->pack);
    if (!pack) throw_corruption("blob " + id.short_hex() + " refers to an unknown pack");
    const std::string name = pack_object_name(pack->id);
    Bytes stored = objects_->read(name, loc->offset, loc->stored_size);
    Bytes plain;
    try {
        plain = decompress_blob(loc->codec, stored, loc->raw_size);
    } catch (const StoreError& e) {
        throw_corruption("blob " + id.short_hex() + " in " + name + ": " + e.what());
    }
    if (sha256(plain) != id)
        throw_corruption("blob " + id.short_hex() + " in " + name + " fails its hash check");
    return plain;
}

std::vector<TreeEntry> Repository::load_tree(const BlobId& id) {
    Bytes b = load_blob(id, format::BlobType::Tree);
    try {
        return decode_tree(b);
    } catch (const StoreError& e) {
        throw_corruption("tree " + id.short_hex() + ": " + e.what());
    }
}

Bytes Repository::load_data(const BlobId& id) { return load_blob(id, format::BlobType::Data); }

BlobId Repository::save_snapshot(const SnapshotRecord& rec) {
    Bytes data = encode_snapshot(rec);
    BlobId id = sha256(data);
    objects_->put(snapshot_object_name(id), data);
    crash_point("snapshot-file-written");
    index_->put_snapshot({id, rec});
    return id;
}

// The entries of `listed` whose bytes are still inside the pack `name` and hash to their id, in
// offset order.
std::vector<PackEntry> Repository::blobs_still_sound(const std::string& name, std::vector<PackEntry> listed) {
    std::vector<PackEntry> sound;
    if (listed.empty()) return sound;
    std::uint64_t size = 0;
    try {
        size = objects_->size(name);
    } catch (const StoreError&) {
        return sound;
    }
    std::sort(listed.begin(), listed.end(), [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
    for (const auto& e : listed) {
        if (e.offset > size || e.stored_size > size - e.offset || e.raw_size > format::kMaxBlobSize) continue;
        try {
            Bytes stored = objects_->read(name, e.offset, e.stored_size);
            if (sha256(decompress_blob(e.codec, stored, e.raw_size)) == e.id) sound.push_back(e);
        } catch (const StoreError&) {
            // damaged too: left out
        }
    }
    return sound;
}

Repository::RepairReport Repository::repair_index(const PreviousEntries& previous) {
    RepairReport r;
    const std::string dir = path_ + "/" + format::kIndexDir;
    const std::string fresh = dir + ".new";
    remove_tree(fresh);
    {
        BlobIndex idx(fresh, BlobIndex::Access::Create);
        for (const auto& name : objects_->list(format::kPackDir)) {
            auto pid = pack_id_from_name(name);
            if (!pid) {
                r.problems.push_back(name + ": not a pack name, ignored");
                continue;
            }
            try {
                auto entries = read_pack_trailer(*objects_, name);
                idx.add_pack(*pid, objects_->size(name), entries);
                r.packs++;
                r.blobs += entries.size();
            } catch (const StoreError& e) {
                std::vector<PackEntry> listed = previous ? previous(*pid) : std::vector<PackEntry>{};
                std::vector<PackEntry> sound = blobs_still_sound(name, listed);
                if (sound.empty()) {
                    r.problems.push_back(std::string(e.what()) + " (pack skipped)");
                    continue;
                }
                idx.add_pack(*pid, objects_->size(name), sound);
                r.packs++;
                r.blobs += sound.size();
                r.problems.push_back(std::string(e.what()) + "; " + std::to_string(sound.size()) + " of the " +
                                     std::to_string(listed.size()) +
                                     " blobs the previous index listed in it are intact and indexed again "
                                     "(the pack stays damaged: `strata verify` reports it)");
            }
        }
        for (const auto& name : objects_->list(format::kSnapshotDir)) {
            auto id = BlobId::from_hex(name.substr(name.rfind('/') + 1));
            try {
                Bytes data = objects_->read_all(name);
                if (!id || sha256(data) != *id) throw_corruption(name + ": content does not match its name");
                idx.put_snapshot({*id, decode_snapshot(data)});
                r.snapshots++;
            } catch (const StoreError& e) {
                r.problems.push_back(std::string(e.what()) + " (snapshot skipped)");
            }
        }
    }
    index_.reset();
    const std::string old = dir + ".old";
    remove_tree(old);
    if (::rename(dir.c_str(), old.c_str()) != 0 && errno != ENOENT) throw_io("move old index", errno);
    if (::rename(fresh.c_str(), dir.c_str()) != 0) throw_io("install new index", errno);
    remove_tree(old);
    index_ = std::make_unique<BlobIndex>(dir, BlobIndex::Access::ReadWrite);
    return r;
}

std::string Repository::concurrent_writer_caveat() {
    if (!index_ || !index_->without_reader_table()) return "";
    return "no write access to " + path_ + "/" + format::kIndexDir +
           "/lock.mdb, so the index is read without LMDB's reader table: reads are safe only while "
           "no ingest or prune writes to this repository (give this process write access to that "
           "file, e.g. run it as the repository's owner)";
}

// --- reader.h ---

std::unique_ptr<RepositoryReader> open_repository_reader(const std::string& path) {
    return Repository::open(path);
}

const Snapshot& resolve_snapshot(const std::vector<Snapshot>& all, const std::string& name) {
    if (all.empty()) throw_not_found("the repository has no snapshots yet");
    if (name == "latest") return all.back();
    if (name.size() < 4 || name.size() > 64 ||
        name.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        throw_usage("\"" + name +
                    "\" is not a snapshot name: give its id, a prefix of at least 4 hex digits, "
                    "or `latest`");
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const Snapshot* found = nullptr;
    std::size_t matches = 0;
    for (const auto& s : all) {
        if (s.id.hex().compare(0, lower.size(), lower) == 0) {
            found = &s;
            matches++;
        }
    }
    if (matches == 0) throw_not_found("no snapshot has an id starting with " + lower);
    if (matches > 1)
        throw_usage("snapshot prefix " + lower + " is ambiguous (" + std::to_string(matches) +
                    " snapshots match); give more digits");
    return *found;
}

TreeEntry snapshot_root_entry(const Snapshot& s) {
    TreeEntry e = s.rec.root_meta;
    e.subtree = s.rec.root;
    return e;
}

TreeEntry find_path(RepositoryReader& repo, const Snapshot& s, const std::string& path) {
    TreeEntry cur = snapshot_root_entry(s);
    std::string walked;
    std::size_t pos = 0;
    while (pos < path.size()) {
        std::size_t slash = path.find('/', pos);
        std::string part = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        pos = slash == std::string::npos ? path.size() : slash + 1;
        if (part.empty() || part == ".") continue;
        if (cur.type != EntryType::Dir)
            throw_not_found(walked + " is not a directory in snapshot " + s.id.short_hex());
        auto entries = repo.load_tree(cur.subtree);
        auto it = std::lower_bound(entries.begin(), entries.end(), part,
                                   [](const TreeEntry& e, const std::string& n) { return e.name < n; });
        walked += (walked.empty() ? "" : "/") + part;
        if (it == entries.end() || it->name != part)
            throw_not_found(walked + ": no such file or directory in snapshot " + s.id.short_hex());
        cur = std::move(*it);
    }
    return cur;
}

}  // namespace strata
