#include "store/repo/repository.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

#include "store/base/crash_point.h"
#include "store/format/format.h"
#include "store/index/index_probe.h"
#include "store/repo/index_cache.h"
#include "store/repo/repo_keys.h"

namespace strata {
namespace {

std::optional<Bytes> from_hex_bytes(const std::string& hex) {
    if (hex.size() % 2) return std::nullopt;
    Bytes out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int v = 0;
        for (char c : {hex[i], hex[i + 1]}) {
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else
                return std::nullopt;
        }
        out.push_back(static_cast<std::uint8_t>(v));
    }
    return out;
}

}  // namespace

RepoConfig parse_repo_config(const std::string& text, const std::string& where,
                             const SettingsOpener& open_settings) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != "strata repository")
        throw StoreError(StoreError::Kind::Format,
                         where +
                             " is not a strata repository config (first line is not "
                             "\"strata repository\")");
    RepoConfig c;
    std::uint64_t seen = 0;
    std::string encryption, sealed_settings;
    // Settings: version and id in the clear header; chunker and zstd level there too, or for an
    // encrypted repository in the sealed settings (`in_settings`).
    auto parse_line = [&](const std::string& line, bool in_settings) {
        if (line.empty() || line[0] == '#') return;
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
        const bool header =
            key == "version" || key == "id" || key == "encryption" || key == "settings";
        if (header && in_settings)
            throw_corruption(where + ": " + key + " inside the sealed settings");
        if (!header && !in_settings && !encryption.empty())
            throw_corruption(where + ": " + key + " in the clear in an encrypted repository");
        if (key == "version")
            c.version = static_cast<std::uint32_t>(number()), seen |= 1;
        else if (key == "id")
            c.id = value, seen |= 2;
        else if (key == "encryption")
            encryption = value;
        else if (key == "settings")
            sealed_settings = value;
        else if (key == "chunker") {
            if (value != "gear-fastcdc-v1")
                throw StoreError(StoreError::Kind::Format, where + ": unknown chunker " + value);
        } else if (key == "chunk_min")
            c.chunker.min_size = static_cast<std::uint32_t>(number()), seen |= 4;
        else if (key == "chunk_avg")
            c.chunker.avg_size = static_cast<std::uint32_t>(number()), seen |= 8;
        else if (key == "chunk_max")
            c.chunker.max_size = static_cast<std::uint32_t>(number()), seen |= 16;
        else if (key == "zstd_level")
            c.zstd_level = static_cast<int>(number()), seen |= 32;
    };
    while (std::getline(in, line)) parse_line(line, false);
    if (!(seen & 1)) throw_corruption(where + ": no version line");
    if (c.version > format::kRepositoryVersion)
        throw StoreError(StoreError::Kind::Format,
                         where + ": repository format " + std::to_string(c.version) +
                             " was created by a newer strata (this one reads up to format " +
                             std::to_string(format::kRepositoryVersion) + "); upgrade strata");
    if (!(seen & 2)) throw_corruption(where + ": no id line");
    const bool encrypted = c.version >= format::kEncryptedRepositoryVersion;
    if (encrypted) {
        if (encryption != format::kEncryptionScheme)
            throw StoreError(StoreError::Kind::Format, where + ": unknown encryption \"" +
                                                           encryption + "\" (this strata knows " +
                                                           format::kEncryptionScheme + ")");
        auto id = BlobId::from_hex(c.id);
        if (!id) throw_corruption(where + ": the id is not 64 hex digits");
        auto sealed = from_hex_bytes(sealed_settings);
        if (!sealed || sealed->empty()) throw_corruption(where + ": no sealed settings line");
        if (!open_settings)
            throw StoreError(StoreError::Kind::Password,
                             where + ": the repository is encrypted and no password was given");
        std::istringstream settings(open_settings(c, *sealed));
        while (std::getline(settings, line)) parse_line(line, true);
    } else if (!encryption.empty() || !sealed_settings.empty()) {
        throw_corruption(where + ": encryption settings in a format " + std::to_string(c.version) +
                         " repository");
    }
    if (seen != 63) throw_corruption(where + ": missing settings");
    if (c.chunker.max_size > format::kMaxBlobSize)
        throw_corruption(where + ": chunk_max above the format's blob limit");
    if (c.zstd_level < 1 || c.zstd_level > 19)
        throw_corruption(where + ": zstd_level is not 1 to 19");
    try {
        Chunker check(c.chunker);  // throws std::invalid_argument on inconsistent bounds
    } catch (const std::invalid_argument& e) {
        throw_corruption(where + ": " + e.what());
    }
    return c;
}

namespace {

// What to do about a config that does not parse: it holds only settings, so it can be restored
// or written again without touching the data (docs/repository-format.md, "config").
std::string config_repair_hint(const std::string& cfg) {
    return ". The repository's config is damaged; it holds only settings, not data. Restore " +
           cfg +
           " from a copy of the repository, or re-create it: `strata init` on an empty "
           "directory writes a config to copy here (use the zstd_level this repository was made "
           "with; chunk_min, chunk_avg and chunk_max are the same for every repository `strata "
           "init` makes). The packs, snapshots and index are not affected.";
}

}  // namespace

namespace {

// An error of the object store reading the config, as the user should read it.
[[noreturn]] void throw_config_unreadable(const std::string& location, const std::string& cfg,
                                          const StoreError& e) {
    if (e.kind() == StoreError::Kind::NotFound)
        throw StoreError(StoreError::Kind::Format,
                         location +
                             " is not a strata repository (no config file); create one with "
                             "`strata init`");
    if (e.kind() != StoreError::Kind::Io) throw e;
    // Permission: say so, and what to do. Anything else: the store's own words, which name the
    // object and the cause (an errno, an HTTP status).
    if (e.error_number() != EACCES && e.error_number() != EPERM) throw e;
    throw_repository_unreadable(location, cfg, e.error_number());
}

}  // namespace

namespace {

// Reads the config of the repository whose objects are `objects` and parses it, an encrypted
// one's settings opened by `open_settings` (made from the config's name in messages).
RepoConfig read_repo_config(
    ObjectStore& objects, const std::string& location,
    const std::function<SettingsOpener(const std::string& cfg)>& make_opener) {
    const std::string cfg = location + "/" + format::kConfigFile;
    std::uint64_t size = 0;
    try {
        size = objects.size(format::kConfigFile);
    } catch (const StoreError& e) {
        throw_config_unreadable(location, cfg, e);
    }
    if (size > 65536) throw_corruption(cfg + ": implausibly large" + config_repair_hint(cfg));
    std::string text;
    try {
        const Bytes data = objects.read_all(format::kConfigFile);
        text.assign(data.begin(), data.end());
    } catch (const StoreError& e) {
        throw_config_unreadable(location, cfg, e);
    }
    try {
        return parse_repo_config(text, cfg, make_opener(cfg));
    } catch (const StoreError& e) {
        // A config cut short (even before the end of its first line) is damage, not another format.
        const bool truncated = std::string("strata repository\n").rfind(text, 0) == 0;
        if (e.kind() != StoreError::Kind::Corruption && !truncated) throw;
        throw_corruption((truncated ? cfg + ": cut short" : std::string(e.what())) +
                         config_repair_hint(cfg));
    }
}

// Thrown by the opener of load_repo_config_header once the clear header is checked.
struct HeaderRead {
    RepoConfig header;
};

}  // namespace

RepoConfig load_repo_config(ObjectStore& objects, const std::string& location,
                            const PasswordSource& password) {
    // An encrypted repository's settings, opened with the master key a key object gives for the
    // password.
    return read_repo_config(objects, location, [&](const std::string& cfg) -> SettingsOpener {
        return [&objects, &location, &password, cfg](RepoConfig& header, const Bytes& sealed) {
            const BlobId id = *BlobId::from_hex(header.id);
            if (!password)
                throw StoreError(
                    StoreError::Kind::Password,
                    "the repository " + location + " is encrypted and no password was given");
            auto unlocked = std::make_shared<UnlockedKeys>(
                unlock_repository(objects, location, id, password(location)));
            Bytes plain;
            try {
                plain =
                    crypto::open(unlocked->keys.content, crypto::ObjectKind::Config, id, sealed);
            } catch (const StoreError& e) {
                throw_corruption(cfg + ": its sealed settings cannot be opened (" + e.what() + ")");
            }
            header.unlocked = std::move(unlocked);
            return std::string(plain.begin(), plain.end());
        };
    });
}

RepoConfigHeader load_repo_config_header(ObjectStore& objects, const std::string& location) {
    try {
        const RepoConfig c = read_repo_config(objects, location, [](const std::string&) {
            return
                [](RepoConfig& header, const Bytes&) -> std::string { throw HeaderRead{header}; };
        });
        return {c.version, c.id, false};
    } catch (const HeaderRead& h) {
        return {h.header.version, h.header.id, true};
    }
}

void throw_repository_unreadable(const std::string& location, const std::string& what, int err) {
    if (err == EACCES || err == EPERM)
        throw StoreError(StoreError::Kind::Io,
                         "permission denied on " + what + ": cannot read the repository " +
                             location +
                             "; run strata as a user who may read it (its owner, or root)",
                         err);
    throw_io("cannot read " + what, err);
}

std::unique_ptr<Repository> Repository::open(const std::string& location, CacheSync sync) {
    return open(open_storage(location), sync);
}

std::unique_ptr<Repository> Repository::open(const std::string& path,
                                             std::unique_ptr<ObjectStore> objects) {
    // The config is read through the local store: a wrapper failing reads from the first one on
    // would otherwise fail the open, not the operation under test.
    auto repo = open(local_storage(path));
    repo->objects_ = std::move(objects);
    return repo;
}

namespace {

// The spec's config, read if its builder did not.
RepoConfig config_of(const RepositoryStorage& storage) {
    return storage.config
               ? *storage.config
               : load_repo_config(*storage.objects, storage.location, storage_options().password);
}

}  // namespace

namespace {

// Where this host remembers the snapshots it saw (rollback_check.h): in the cache folder of the
// repository, as remote repositories keep their index; "" (no check) when there is no cache folder.
std::string seen_snapshots_file(const std::string& repository_id) {
    try {
        return cache_root(storage_options()) + "/" + repository_id + "/seen-snapshots";
    } catch (const StoreError&) {
        return "";
    }
}

}  // namespace

std::unique_ptr<BlobCodec> codec_for(const RepoConfig& config) {
    return config.unlocked ? sealed_blob_codec(config.unlocked->keys, config.zstd_level)
                           : plain_blob_codec(config.zstd_level);
}

std::unique_ptr<Repository> Repository::open(RepositoryStorage storage, CacheSync sync) {
    RepoConfig config = config_of(storage);
    auto codec = codec_for(config);
    // Before this process maps the index: a damaged one could crash it (store/index/index_probe.h).
    // A remote repository's refresh leaves its cache probed, or built anew; a writer's cache is
    // only probed here, and refreshed under its lock.
    if (storage.index_is_cache) {
        if (sync == CacheSync::AtOpen ||
            !probe_index(storage.index_dir, storage.location, codec.get()).empty())
            refresh_index_cache(storage, *codec);
    } else {
        probe_index_or_throw(storage.index_dir, storage.location, codec.get());
    }
    // A cache is opened for writing, so that refresh_from_store can bring it up to date in this
    // process (LMDB allows one environment per file in a process).
    auto index = std::make_unique<BlobIndex>(
        storage.index_dir,
        storage.index_is_cache ? BlobIndex::Access::ReadWrite : BlobIndex::Access::ReadOnly,
        codec.get());
    return std::unique_ptr<Repository>(
        new Repository(std::move(storage), std::move(config), std::move(index), std::move(codec)));
}

bool Repository::refresh_from_store() {
    if (!index_is_cache_ || !index_) return false;
    auto lock = locks_->try_lock(kRefreshPurpose);
    if (!lock) return false;
    const std::uint64_t before = index_->snapshot_generation();
    CacheRefresh r = sync_index_with_objects(*index_, *objects_, *codec_);
    return r.packs_added || r.packs_removed || index_->snapshot_generation() != before;
}

std::unique_ptr<Repository> Repository::open_for_repair(const std::string& location) {
    return open_for_repair(open_storage(location));
}

std::unique_ptr<Repository> Repository::open_for_repair(RepositoryStorage storage) {
    RepoConfig config = config_of(storage);
    auto codec = codec_for(config);
    return std::unique_ptr<Repository>(
        new Repository(std::move(storage), std::move(config), nullptr, std::move(codec)));
}

Repository::Repository(RepositoryStorage storage, RepoConfig config,
                       std::unique_ptr<BlobIndex> index, std::unique_ptr<BlobCodec> codec)
    : location_(std::move(storage.location)),
      index_dir_(std::move(storage.index_dir)),
      index_is_cache_(storage.index_is_cache),
      free_space_dir_(std::move(storage.free_space_dir)),
      config_(std::move(config)),
      objects_(std::move(storage.objects)),
      locks_(std::move(storage.locks)),
      index_(std::move(index)),
      codec_(std::move(codec)),
      rollback_(std::make_unique<RollbackCheck>(seen_snapshots_file(config_.id))) {
    if (!storage.tree_cache_dir.empty()) trees_.emplace(storage.tree_cache_dir);
    if (!storage.chunk_cache_dir.empty() && storage.chunk_cache_bytes)
        chunks_.emplace(storage.chunk_cache_dir, storage.chunk_cache_bytes);
    if (index_is_cache_)
        windows_ = std::make_unique<PackWindows>(
            storage.pack_window_bytes ? storage.pack_window_bytes : kPackWindowBytes);
}

void Repository::remember_tree(const BlobId& id, ByteView stored) {
    if (trees_) trees_->put(id, stored);
}

std::string Repository::index_problem() const {
    return probe_index(index_dir_, location_, codec_.get());
}

std::vector<Snapshot> Repository::snapshots() {
    std::vector<Snapshot> indexed = index_->snapshots();
    // snapshots/ is the truth: a record made durable by an ingest killed before indexing it is
    // complete and shown; one removed by forget before its index entry went is not.
    std::set<BlobId> on_disk;
    for (const auto& object : objects_->list(format::kSnapshotDir))
        if (auto id = snapshot_id_from_name(object.name)) on_disk.insert(*id);
    for (const auto& w : rollback_->check(on_disk, *objects_, *codec_, location_))
        if (storage_options().on_warning) storage_options().on_warning(w);
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
            out.push_back({id, load_snapshot_record(id)});
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

SnapshotRecord load_snapshot_record(ObjectStore& objects, const BlobCodec& codec,
                                    const BlobId& id) {
    return decode_snapshot(codec.open_object(crypto::ObjectKind::SnapshotRecord, id,
                                             objects.read_all(snapshot_object_name(id))));
}

SnapshotRecord Repository::load_snapshot_record(const BlobId& id) {
    return strata::load_snapshot_record(*objects_, *codec_, id);
}

Bytes Repository::load_blob(const BlobId& id, format::BlobType expected) {
    auto loc = index_->find(id);
    if (!loc) throw_not_found("blob " + id.short_hex() + " is not in the index");
    if (loc->type != expected) throw_corruption("blob " + id.short_hex() + " has the wrong type");
    BlobFileCache* cache = expected == format::BlobType::Tree ? (trees_ ? &*trees_ : nullptr)
                                                              : (chunks_ ? &*chunks_ : nullptr);
    if (cache) {
        if (auto kept = cache->get(id); kept && kept->size() == loc->stored_size) {
            try {
                return codec_->open(id, expected, loc->codec, loc->raw_size, *kept);
            } catch (const StoreError&) {
                cache->drop(id);  // damaged, or sealed otherwise than the indexed copy: refetch
            }
        }
    }
    auto pack = index_->pack(loc->pack);
    if (!pack) throw_corruption("blob " + id.short_hex() + " refers to an unknown pack");
    const std::string name = pack_object_name(pack->id);
    Bytes stored = windows_
                       ? windows_->read(*objects_, name, pack->size, loc->offset, loc->stored_size)
                       : objects_->read(name, loc->offset, loc->stored_size);
    try {
        Bytes plain = codec_->open(id, expected, loc->codec, loc->raw_size, stored);
        if (cache) cache->put(id, stored);
        return plain;
    } catch (const StoreError& e) {
        throw_corruption("blob " + id.short_hex() + " in " + name + ": " + e.what());
    }
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

std::string Repository::concurrent_writer_caveat() {
    if (!index_ || !index_->without_reader_table()) return "";
    return "no write access to " + index_dir_ +
           "/lock.mdb, so the index is read without LMDB's reader table: reads are safe only while "
           "no ingest or prune writes to this repository (give this process write access to that "
           "file, e.g. run it as the repository's owner)";
}

SpaceUsage Repository::space_usage() {
    SpaceUsage u;
    for (const auto& p : index_->packs()) u.stored_bytes += p.size;
    struct statvfs st {};
    if (!free_space_dir_.empty() && ::statvfs(free_space_dir_.c_str(), &st) == 0) {
        u.free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
        u.free_files = st.f_favail;
    }
    return u;
}

}  // namespace strata
