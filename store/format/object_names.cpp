#include "store/format/object_names.h"

#include "store/format/format.h"

namespace strata {

std::string pack_object_name(const BlobId& pack_id) {
    std::string hex = pack_id.hex();
    return std::string(format::kPackDir) + "/" + hex.substr(0, 2) + "/" + hex + ".pack";
}

std::optional<BlobId> pack_id_from_name(const std::string& name) {
    const std::string prefix = std::string(format::kPackDir) + "/";
    if (name.size() != prefix.size() + 3 + 64 + 5 || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 5, 5, ".pack") != 0)
        return std::nullopt;
    auto id = BlobId::from_hex(std::string_view(name).substr(prefix.size() + 3, 64));
    if (!id || name.compare(prefix.size(), 2, id->hex().substr(0, 2)) != 0) return std::nullopt;
    return id;
}

namespace {

// "<dir>/<64 hex>" and back.
std::string flat_name(const char* dir, const BlobId& id) {
    return std::string(dir) + "/" + id.hex();
}

std::optional<BlobId> id_from_flat_name(const char* dir, const std::string& name) {
    const std::string prefix = std::string(dir) + "/";
    if (name.size() != prefix.size() + 64 || name.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    return BlobId::from_hex(std::string_view(name).substr(prefix.size()));
}

}  // namespace

std::string snapshot_object_name(const BlobId& id) { return flat_name(format::kSnapshotDir, id); }

std::optional<BlobId> snapshot_id_from_name(const std::string& name) {
    return id_from_flat_name(format::kSnapshotDir, name);
}

std::string index_object_name(const BlobId& id) { return flat_name(format::kIndexObjectDir, id); }

std::optional<BlobId> index_object_id_from_name(const std::string& name) {
    return id_from_flat_name(format::kIndexObjectDir, name);
}

std::string forget_record_name(const BlobId& id) { return flat_name(format::kForgottenDir, id); }

std::optional<BlobId> forget_record_id_from_name(const std::string& name) {
    return id_from_flat_name(format::kForgottenDir, name);
}

std::string key_object_name(const BlobId& id) { return flat_name(format::kKeyDir, id); }

std::optional<BlobId> key_object_id_from_name(const std::string& name) {
    return id_from_flat_name(format::kKeyDir, name);
}

}  // namespace strata
