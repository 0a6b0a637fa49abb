// JSON documents of the CLI (`--json`). Field names are stable and documented in docs/cli.md.
#pragma once

#include <nlohmann/json.hpp>

#include "store/format/snapshot.h"
#include "store/format/tree.h"

namespace strata::cli {

using Json = nlohmann::json;

Json snapshot_json(const Snapshot& s);
// `path` is the entry's path inside the snapshot.
Json entry_json(const TreeEntry& e, const std::string& path);
// "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev".
const char* type_name(EntryType t);
// Sets j[field] to a name (a path, a target) and, if it is not UTF-8, j[field_hex] to its bytes.
void put_name(Json& j, const char* field, const std::string& value);
// Serializes one document; bytes that are not UTF-8 (file names may be any bytes) become U+FFFD,
// and the fields that hold names carry a "_hex" twin with the exact bytes.
std::string dump(const Json& j);

}  // namespace strata::cli
