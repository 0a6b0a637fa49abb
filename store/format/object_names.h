// The names of a repository's objects, built and parsed here only (docs/repository-format.md,
// "Layout"). Names are relative to the repository and '/'-separated.
#pragma once

#include <optional>
#include <string>

#include "store/base/hash.h"

namespace strata {

// "packs/<first 2 hex>/<64 hex>.pack".
std::string pack_object_name(const BlobId& pack_id);
// The pack id in a name made by pack_object_name, or nullopt for any other name.
std::optional<BlobId> pack_id_from_name(const std::string& name);

// "snapshots/<64 hex>".
std::string snapshot_object_name(const BlobId& id);
// The snapshot id in a name made by snapshot_object_name, or nullopt for any other name.
std::optional<BlobId> snapshot_id_from_name(const std::string& name);

// "indexes/<64 hex>".
std::string index_object_name(const BlobId& id);
// The index object id in a name made by index_object_name, or nullopt for any other name.
std::optional<BlobId> index_object_id_from_name(const std::string& name);

// "forgotten/<64 hex>": forget records.
std::string forget_record_name(const BlobId& id);
std::optional<BlobId> forget_record_id_from_name(const std::string& name);

// "keys/<64 hex>": an encrypted repository's key objects, named by the SHA-256 of their content.
std::string key_object_name(const BlobId& id);
std::optional<BlobId> key_object_id_from_name(const std::string& name);

}  // namespace strata
