#include "store/repo/pending_deletion.h"

#include <sstream>
#include <string>

#include "store/format/format.h"

namespace strata {
namespace {

constexpr const char* kPendingHeader = "strata pending-deletion 1";

}  // namespace

std::vector<PendingDeletion> load_pending_deletions(ObjectStore& objects) {
    if (!objects.exists(format::kPendingDeletionFile)) return {};
    Bytes data = objects.read_all(format::kPendingDeletionFile);
    std::istringstream in(std::string(data.begin(), data.end()));
    std::string line;
    const std::string where = std::string(format::kPendingDeletionFile) + ": ";
    if (!std::getline(in, line) || line != kPendingHeader)
        throw_corruption(where +
                         "unknown header; it lists pack files prune may delete. Remove it "
                         "to keep those files (a later prune finds them again)");
    std::vector<PendingDeletion> out;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto space = line.find(' ');
        auto id = BlobId::from_hex(line.substr(0, space));
        if (!id || space == std::string::npos || space + 1 >= line.size() ||
            line.find_first_not_of("0123456789", space + 1) != std::string::npos)
            throw_corruption(where + "malformed line \"" + line + "\"");
        out.push_back({*id, std::stoll(line.substr(space + 1))});
    }
    return out;
}

void save_pending_deletions(ObjectStore& objects, const std::vector<PendingDeletion>& list) {
    std::string text = std::string(kPendingHeader) + "\n";
    for (const auto& p : list) text += p.pack.hex() + " " + std::to_string(p.since) + "\n";
    objects.put(format::kPendingDeletionFile, as_bytes(text));
}

bool pending_deletions_due(ObjectStore& objects, std::int64_t grace_seconds, std::int64_t now) {
    for (const auto& p : load_pending_deletions(objects))
        if (now - p.since >= grace_seconds) return true;
    return false;
}

}  // namespace strata
