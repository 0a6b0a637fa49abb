#include "store/repo/repo_keys.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "store/base/errors.h"
#include "store/base/host_name.h"
#include "store/format/format.h"
#include "store/format/object_names.h"

namespace strata {
namespace {

struct ReadKey {
    BlobId id;
    std::string name;
    std::optional<crypto::KeyObject> key;
    std::string problem;
};

std::vector<ReadKey> read_keys(ObjectStore& objects, const BlobId& repository) {
    std::vector<ReadKey> out;
    for (const auto& object : objects.list(format::kKeyDir)) {
        auto id = key_object_id_from_name(object.name);
        if (!id) continue;
        ReadKey k{*id, object.name, std::nullopt, ""};
        try {
            Bytes data = objects.read_all(object.name);
            if (sha256(data) != *id) throw_corruption("its content does not match its name");
            k.key = crypto::decode_key_object(data);
            if (k.key->repository != repository) {
                k.problem =
                    "it belongs to another repository (" + k.key->repository.short_hex() + ")";
                k.key.reset();
            }
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) continue;  // removed meanwhile
            if (e.kind() != StoreError::Kind::Corruption) throw;
            k.problem = std::string("damaged: ") + e.what();
        }
        out.push_back(std::move(k));
    }
    return out;
}

}  // namespace

UnlockedKeys unlock_repository(ObjectStore& objects, const std::string& location,
                               const BlobId& repository, std::string_view password) {
    const std::vector<ReadKey> keys = read_keys(objects, repository);
    std::size_t usable = 0;
    for (const auto& k : keys) {
        if (!k.key) continue;
        ++usable;
        if (auto master = crypto::unwrap_master_key(*k.key, password))
            return {*master, crypto::RepositoryKeys::derive(*master, repository), k.id};
    }
    if (usable == 0) {
        std::string why;
        for (const auto& k : keys) why += "; " + location + "/" + k.name + ": " + k.problem;
        throw StoreError(StoreError::Kind::Password,
                         "the encrypted repository " + location + " has no usable key object in " +
                             format::kKeyDir + "/" + why +
                             ". Without one it cannot be opened: restore " + format::kKeyDir +
                             "/ from a copy of the repository");
    }
    throw StoreError(StoreError::Kind::Password,
                     "wrong password for the repository " + location + " (it opens none of its " +
                         std::to_string(usable) + (usable == 1 ? " key" : " keys") + ")");
}

std::vector<KeyInfo> list_repository_keys(ObjectStore& objects, const BlobId& repository) {
    std::vector<KeyInfo> out;
    for (auto& k : read_keys(objects, repository)) {
        KeyInfo info{k.id, "", 0, {}, k.problem};
        if (k.key) {
            info.host = k.key->host;
            info.created = k.key->created;
            info.kdf = k.key->kdf;
        }
        out.push_back(std::move(info));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const KeyInfo& a, const KeyInfo& b) { return a.created < b.created; });
    return out;
}

BlobId add_repository_key(ObjectStore& objects, const crypto::Key& master, const BlobId& repository,
                          std::string_view password, const crypto::KdfParams& kdf) {
    const Bytes object =
        crypto::make_key_object(master, password, repository, kdf,
                                static_cast<std::int64_t>(std::time(nullptr)), host_name());
    const BlobId id = sha256(object);
    objects.put(key_object_name(id), object);
    return id;
}

void remove_repository_key(ObjectStore& objects, const BlobId& repository, const BlobId& id) {
    const std::vector<ReadKey> keys = read_keys(objects, repository);
    bool found = false;
    std::size_t others = 0;
    for (const auto& k : keys) {
        if (k.id == id)
            found = true;
        else if (k.key)
            ++others;
    }
    if (!found) throw_not_found("no key object " + id.hex() + " in " + format::kKeyDir + "/");
    if (others == 0)
        throw_usage("key " + id.short_hex() +
                    " is the repository's only usable key: removing it would make the "
                    "repository unreadable for good; add another key first (`strata key add`)");
    objects.remove(key_object_name(id));
}

std::string read_password_file(const std::string& path, const std::string& what) {
    std::ifstream f(path);
    if (!f) {
        const int err = errno;
        throw StoreError(StoreError::Kind::Password,
                         what + " " + path + ": cannot read it (" + std::strerror(err) + ")");
    }
    std::string line;
    std::getline(f, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty())
        throw StoreError(
            StoreError::Kind::Password,
            what + " " + path + ": its first line is empty (it should hold the password)");
    return line;
}

}  // namespace strata
