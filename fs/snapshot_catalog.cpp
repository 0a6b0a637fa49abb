#include "fs/snapshot_catalog.h"

#include <algorithm>
#include <ctime>

#include "store/base/utc_time.h"

namespace strata::fs {

namespace {

// Shortest id prefix shown under ids/: 8 hex digits, as the CLI shows ids.
constexpr std::size_t kShortIdDigits = 8;

}  // namespace

std::string utc_time_name(std::int64_t sec) { return utc_time_text(sec); }

std::optional<std::int64_t> parse_moment(std::string_view text) {
    if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) text.remove_suffix(1);
    // "YYYY-MM-DDThh:mm:ss" cut after the day, the hour, the minute or the second.
    static constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:dd";
    if (text.size() != 10 && text.size() != 13 && text.size() != 16 && text.size() != 19)
        return std::nullopt;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char want = kPattern[i], c = text[i];
        bool ok = want == 'd'   ? (c >= '0' && c <= '9')
                  : want == 'T' ? (c == 'T' || c == 't' || c == ' ')
                                : c == want;
        if (!ok) return std::nullopt;
    }
    auto number = [&](std::size_t at, std::size_t width) {
        if (at >= text.size()) return 0;
        int v = 0;
        for (std::size_t i = at; i < at + width; ++i) v = v * 10 + (text[i] - '0');
        return v;
    };
    const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
    const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    std::time_t t = timegm(&tm);
    // timegm normalizes 2026-02-30 into March: refuse dates that do not exist.
    std::tm back{};
    gmtime_r(&t, &back);
    if (back.tm_mday != day || back.tm_mon != month - 1) return std::nullopt;
    return static_cast<std::int64_t>(t);
}

std::string directory_name(std::string_view value) {
    std::string out(value);
    for (auto& c : out)
        if (c == '/' || c == '\0') c = '_';
    if (out.empty() || out == "." || out == "..") out = "_" + out;
    return out;
}

SnapshotCatalog::SnapshotCatalog(std::vector<Snapshot> all, std::uint64_t generation)
    : generation_(generation) {
    std::stable_sort(all.begin(), all.end(), [](const Snapshot& a, const Snapshot& b) {
        return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
               std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
    });
    std::vector<std::string> hexes;
    hexes.reserve(all.size());
    for (const auto& s : all) hexes.push_back(s.id.hex());
    std::vector<std::string> sorted_hexes = hexes;
    std::sort(sorted_hexes.begin(), sorted_hexes.end());
    auto short_id = [&](const std::string& hex) {
        // Long enough to differ from its neighbours in sorted order, hence from every other id.
        std::size_t need = kShortIdDigits;
        auto it = std::lower_bound(sorted_hexes.begin(), sorted_hexes.end(), hex);
        auto common = [&](const std::string& other) {
            std::size_t n = 0;
            while (n < hex.size() && n < other.size() && hex[n] == other[n]) ++n;
            return n;
        };
        if (it != sorted_hexes.begin()) need = std::max(need, common(*(it - 1)) + 1);
        if (it + 1 != sorted_hexes.end() && *(it + 1) != hex)
            need = std::max(need, common(*(it + 1)) + 1);
        return hex.substr(0, std::min(need, hex.size()));
    };
    std::int64_t prev_sec = 0;
    bool have_prev = false;
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto info = std::make_shared<SnapshotInfo>();
        info->snapshot = std::move(all[i]);
        info->short_id = short_id(hexes[i]);
        const std::int64_t sec = info->snapshot.rec.time_sec;
        // The oldest snapshot of a second keeps the plain name; later ones in that second get
        // their short id appended.
        info->name = utc_time_name(sec);
        if (have_prev && prev_sec == sec) {
            info->name.pop_back();
            info->name += "Z-" + info->short_id;
        }
        prev_sec = sec;
        have_prev = true;
        Info shared = info;
        all_.push_back(shared);
        by_name_[shared->name] = shared;
        hosts_[directory_name(shared->snapshot.rec.host)].push_back(shared);
        for (const auto& t : shared->snapshot.rec.tags) tags_[directory_name(t)].push_back(shared);
    }
}

SnapshotCatalog::Info SnapshotCatalog::by_name(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

SnapshotCatalog::Info SnapshotCatalog::by_id(std::string_view prefix) const {
    if (prefix.size() < 4 || prefix.size() > 64) return nullptr;
    std::string lower;
    for (char c : prefix) {
        char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) return nullptr;
        lower += l;
    }
    Info found;
    for (const auto& s : all_) {
        if (s->snapshot.id.hex().compare(0, lower.size(), lower) == 0) {
            if (found) return nullptr;  // ambiguous
            found = s;
        }
    }
    return found;
}

SnapshotCatalog::Info SnapshotCatalog::at_or_before(std::int64_t sec) const {
    auto it = std::upper_bound(all_.begin(), all_.end(), sec, [](std::int64_t t, const Info& s) {
        return t < s->snapshot.rec.time_sec;
    });
    return it == all_.begin() ? nullptr : *(it - 1);
}

}  // namespace strata::fs
