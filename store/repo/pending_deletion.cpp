#include "store/repo/pending_deletion.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <unordered_set>

#include "store/format/format.h"

namespace strata {
namespace {

constexpr const char* kLegacyHeader = "strata pending-deletion 1";
constexpr const char* kRecordHeader = "strata deletion 1";
constexpr const char* kKeepHeader = "strata keep 1";
constexpr const char* kKeepInfix = ".keep-";

std::string record_prefix() { return std::string(format::kDeletionDir) + "/"; }

std::string text_of(const Bytes& data) { return std::string(data.begin(), data.end()); }

// A Unix time in seconds: digits, few enough for std::stoll (18 at most).
bool all_digits(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

[[noreturn]] void malformed(const std::string& name, const std::string& what) {
    throw_corruption(name + ": " + what +
                     "; it lists pack files prune may delete. Remove it to keep those files (a "
                     "later prune finds them again)");
}

// "strata pending-deletion 1", then "<pack id> <since>" lines.
DeletionRecord parse_legacy(const std::string& name, const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kLegacyHeader) malformed(name, "unknown header");
    DeletionRecord r;
    r.name = name;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto space = line.find(' ');
        auto id = BlobId::from_hex(line.substr(0, space));
        if (!id || space == std::string::npos || !all_digits(line.substr(space + 1)))
            malformed(name, "malformed line \"" + line + "\"");
        r.packs.push_back({*id, std::stoll(line.substr(space + 1)), name});
    }
    return r;
}

// kRecordHeader, then "host NAME", "snapshot <id>" and "pack <id> <since>" lines.
DeletionRecord parse_record(const std::string& name, const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kRecordHeader) malformed(name, "unknown header");
    DeletionRecord r;
    r.name = name;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::istringstream fields(line);
        std::string key, value, since;
        fields >> key >> value >> since;
        if (key == "host") {
            r.host = line.size() > 5 ? line.substr(5) : "";
            continue;
        }
        auto id = BlobId::from_hex(value);
        if (key == "snapshot" && id && since.empty()) {
            r.snapshots.push_back(*id);
        } else if (key == "pack" && id && all_digits(since)) {
            r.packs.push_back({*id, std::stoll(since), name});
        } else {
            malformed(name, "malformed line \"" + line + "\"");
        }
    }
    return r;
}

}  // namespace

DeletionRecord parse_deletion_record(const std::string& name, const std::string& text) {
    if (text.rfind(std::string(kLegacyHeader) + "\n", 0) == 0 || text == kLegacyHeader)
        return parse_legacy(name, text);
    return parse_record(name, text);
}

std::string deletion_record_text(const std::string& host, const std::vector<BlobId>& snapshots,
                                 const std::vector<PendingDeletion>& packs) {
    std::string text = std::string(kRecordHeader) + "\nhost " + host + "\n";
    for (const auto& s : snapshots) text += "snapshot " + s.hex() + "\n";
    for (const auto& p : packs)
        text += "pack " + p.pack.hex() + " " + std::to_string(p.since) + "\n";
    return text;
}

// kKeepHeader, then "pack <id>" lines.
std::vector<BlobId> parse_keep_record(const std::string& name, const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kKeepHeader) malformed(name, "unknown header");
    std::vector<BlobId> out;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto id = line.rfind("pack ", 0) == 0 ? BlobId::from_hex(line.substr(5)) : std::nullopt;
        if (!id) malformed(name, "malformed line \"" + line + "\"");
        out.push_back(*id);
    }
    return out;
}

std::vector<DeletionRecord> load_deletion_records(ObjectStore& objects) {
    std::vector<DeletionRecord> out;
    if (objects.exists(format::kPendingDeletionFile))
        out.push_back(parse_legacy(format::kPendingDeletionFile,
                                   text_of(objects.read_all(format::kPendingDeletionFile))));
    std::map<std::string, std::vector<std::string>> keeps;  // record name → its keep records
    std::vector<std::string> records;
    for (const auto& object : objects.list(format::kDeletionDir)) {
        auto infix = object.name.find(kKeepInfix);
        if (infix != std::string::npos)
            keeps[object.name.substr(0, infix)].push_back(object.name);
        else
            records.push_back(object.name);
    }
    for (const auto& name : records) {
        Bytes data;
        try {
            data = objects.read_all(name);
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) continue;  // resolved meanwhile
            throw;
        }
        DeletionRecord r = parse_record(name, text_of(data));
        std::unordered_set<BlobId, BlobIdHash> kept;
        for (const auto& keep : keeps[name]) {
            try {
                for (const auto& id : parse_keep_record(keep, text_of(objects.read_all(keep))))
                    if (kept.insert(id).second) r.kept.push_back(id);
            } catch (const StoreError& e) {
                if (e.kind() != StoreError::Kind::NotFound) throw;
            }
            r.keeps.push_back(keep);
        }
        r.packs.erase(std::remove_if(r.packs.begin(), r.packs.end(),
                                     [&](const PendingDeletion& p) { return kept.count(p.pack); }),
                      r.packs.end());
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<PendingDeletion> load_pending_deletions(ObjectStore& objects) {
    std::vector<PendingDeletion> out;
    for (auto& r : load_deletion_records(objects))
        for (auto& p : r.packs) out.push_back(std::move(p));
    return out;
}

std::string record_deletion(ObjectStore& objects, const std::string& host,
                            const std::vector<BlobId>& snapshots,
                            const std::vector<PendingDeletion>& packs) {
    const std::string text = deletion_record_text(host, snapshots, packs);
    const std::string name = record_prefix() + sha256(as_bytes(text)).hex();
    objects.put(name, as_bytes(text));
    return name;
}

void record_kept(ObjectStore& objects, const std::string& record,
                 const std::vector<BlobId>& packs) {
    if (packs.empty()) return;
    std::string text = std::string(kKeepHeader) + "\n";
    for (const auto& p : packs) text += "pack " + p.hex() + "\n";
    objects.put(record + kKeepInfix + random_hex(8), as_bytes(text));
}

void remove_deletion_record(ObjectStore& objects, const DeletionRecord& record) {
    objects.remove(record.name);
    for (const auto& keep : record.keeps) objects.remove(keep);
}

void replace_pending_deletions(ObjectStore& objects, const std::vector<PendingDeletion>& list) {
    for (const auto& r : load_deletion_records(objects)) remove_deletion_record(objects, r);
    for (const auto& object : objects.list(format::kDeletionDir)) objects.remove(object.name);
    if (!list.empty()) record_deletion(objects, "", {}, list);
}

bool pending_deletions_due(ObjectStore& objects, std::int64_t grace_seconds, std::int64_t now) {
    for (const auto& p : load_pending_deletions(objects))
        if (now - p.since >= grace_seconds) return true;
    return false;
}

}  // namespace strata
