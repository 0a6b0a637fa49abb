// The key objects of an encrypted repository, keys/<SHA-256 of the object>
// (docs/repository-format.md, "Key objects"): each holds the repository's master key wrapped under
// one password (store/crypto/key_object.h). Any of them opens the repository; adding, removing or
// changing a password writes or removes key objects only, never data.
//
// Threads: every function may be called from any thread; the caller serializes changes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/crypto/key_object.h"
#include "store/crypto/keys.h"

namespace strata {

// Asked for the password of the encrypted repository named `location` in messages; throws
// StoreError (Password, saying where a password is looked for) when it has none.
using PasswordSource = std::function<std::string(const std::string& location)>;

// What unlocking an encrypted repository gives: its master key, the subkeys derived from it, and
// the key object whose password opened it.
struct UnlockedKeys {
    crypto::Key master;
    crypto::RepositoryKeys keys;
    BlobId key_id;
};

// Tries `password` on every key object of the repository `repository` in `objects` (named
// `location` in messages). Key objects that are damaged or belong to another repository are
// skipped. Throws Password when none opens with it ("wrong password"; or, when there are no key
// objects at all, that the repository cannot be opened without restoring keys/).
UnlockedKeys unlock_repository(ObjectStore& objects, const std::string& location,
                               const BlobId& repository, std::string_view password);

struct KeyInfo {
    BlobId id;
    std::string host;
    std::int64_t created = 0;
    crypto::KdfParams kdf;
    // Why the key object cannot be used ("" if it can): damaged, or another repository's.
    std::string problem;
};
// The key objects of the repository, oldest first.
std::vector<KeyInfo> list_repository_keys(ObjectStore& objects, const BlobId& repository);

// Stores a new key object for `master` opened by `password`; returns its id. The object is
// durable when this returns.
BlobId add_repository_key(ObjectStore& objects, const crypto::Key& master, const BlobId& repository,
                          std::string_view password, const crypto::KdfParams& kdf);

// Removes the key object `id`. Refuses (Usage) to remove the last key object that opens the
// repository, which would lock everyone out for good.
void remove_repository_key(ObjectStore& objects, const BlobId& repository, const BlobId& id);

// The password in the file `path`: its first line, without the line break. Throws Password when
// the file cannot be read or its first line is empty, naming `what` ("--password-file",
// "password_file=") and the file.
std::string read_password_file(const std::string& path, const std::string& what);

}  // namespace strata
