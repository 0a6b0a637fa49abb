#include "store/ingest/snapshot_fields.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>

namespace strata {

std::string owner_user_name(uid_t uid) {
    struct passwd pw, *res = nullptr;
    char buf[4096];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return pw.pw_name;
    return "";
}

std::string owner_group_name(gid_t gid) {
    struct group gr, *res = nullptr;
    char buf[4096];
    if (::getgrgid_r(gid, &gr, buf, sizeof buf, &res) == 0 && res) return gr.gr_name;
    return "";
}

SnapshotRecord start_record(const IngestOptions& opts, std::vector<std::string> paths,
                            std::chrono::system_clock::time_point started_wall) {
    SnapshotRecord rec;
    const auto since_epoch = started_wall.time_since_epoch();
    rec.time_sec = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    rec.time_nsec = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() % 1000000000);
    rec.host = opts.host;
    rec.paths = std::move(paths);
    rec.tags = opts.tags;
    std::sort(rec.tags.begin(), rec.tags.end());
    rec.tags.erase(std::unique(rec.tags.begin(), rec.tags.end()), rec.tags.end());
    rec.note = opts.note;
    return rec;
}

}  // namespace strata
