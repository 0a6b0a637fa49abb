#include "tools/json.h"

#include "store/base/hash.h"
#include "tools/command.h"

namespace strata::cli {
namespace {

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0, n; i < s.size(); i += n)
        if ((n = utf8_sequence_length(s, i)) == 0) return false;
    return true;
}

}  // namespace

void put_name(Json& j, const char* field, const std::string& value) {
    j[field] = value;
    if (!valid_utf8(value)) j[std::string(field) + "_hex"] = to_hex(as_bytes(value));
}

const char* type_name(EntryType t) {
    switch (t) {
        case EntryType::File:
            return "file";
        case EntryType::Dir:
            return "dir";
        case EntryType::Symlink:
            return "symlink";
        case EntryType::Fifo:
            return "fifo";
        case EntryType::Socket:
            return "socket";
        case EntryType::CharDev:
            return "chardev";
        case EntryType::BlockDev:
            return "blockdev";
    }
    return "unknown";
}

Json snapshot_json(const Snapshot& s) {
    const auto& r = s.rec;
    Json j;
    j["id"] = s.id.hex();
    j["short_id"] = s.id.short_hex();
    j["time"] = format_time_utc(r.time_sec, r.time_nsec, true);
    put_name(j, "host", r.host);
    j["paths"] = Json::array();
    for (const auto& p : r.paths) j["paths"].push_back(p);
    j["tags"] = r.tags;
    j["note"] = r.note;
    j["parent"] = r.parent ? Json(r.parent->hex()) : Json(nullptr);
    j["tree"] = r.root.hex();
    j["files"] = r.files;
    j["dirs"] = r.dirs;
    j["bytes"] = r.bytes;
    j["bytes_added"] = r.bytes_added;
    j["blobs_added"] = r.blobs_added;
    j["duration_seconds"] = static_cast<double>(r.duration_ns) / 1e9;
    j["partial"] = r.partial;
    return j;
}

Json entry_json(const TreeEntry& e, const std::string& path) {
    Json j;
    put_name(j, "name", e.name);
    put_name(j, "path", path);
    j["type"] = type_name(e.type);
    j["mode"] = e.mode;
    j["permissions"] = format_mode(e);
    j["uid"] = e.uid;
    j["gid"] = e.gid;
    j["user"] = e.user;
    j["group"] = e.group;
    j["size"] = e.size;
    j["mtime"] = format_time_utc(e.mtime_sec, e.mtime_nsec, true);
    j["nlink"] = e.nlink;
    if (e.type == EntryType::Symlink) put_name(j, "target", e.target);
    if (e.type == EntryType::CharDev || e.type == EntryType::BlockDev) j["rdev"] = e.rdev;
    if (e.type == EntryType::File) {
        j["stored_size"] = e.data_size();
        j["chunks"] = e.chunks.size();
        if (e.link_group) j["link_group"] = e.link_group;
    }
    if (!e.xattrs.empty()) {
        j["xattrs"] = Json::array();
        for (const auto& x : e.xattrs) j["xattrs"].push_back(x.name);
    }
    return j;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace strata::cli
