#include "store/ingest/exclude.h"

#include <fnmatch.h>

#include <cerrno>
#include <fstream>

#include "store/base/errors.h"

namespace strata {
namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        std::size_t slash = s.find('/', pos);
        if (slash == std::string::npos) slash = s.size();
        if (slash > pos) out.push_back(s.substr(pos, slash - pos));
        pos = slash + 1;
    }
    return out;
}

bool match_parts(const std::vector<std::string>& pat, std::size_t pi,
                 const std::vector<std::string>& path, std::size_t si) {
    if (pi == pat.size()) return si == path.size();
    if (pat[pi] == "**") {
        for (std::size_t k = si; k <= path.size(); ++k)
            if (match_parts(pat, pi + 1, path, k)) return true;
        return false;
    }
    if (si == path.size()) return false;
    if (::fnmatch(pat[pi].c_str(), path[si].c_str(), 0) != 0) return false;
    return match_parts(pat, pi + 1, path, si + 1);
}

}  // namespace

void ExcludeMatcher::add(const std::string& raw) {
    std::string p = raw;
    while (!p.empty() && (p.back() == '\r' || p.back() == ' ')) p.pop_back();
    if (p.empty() || p[0] == '#') return;
    Rule r{};
    if (p[0] == '!') {
        r.negate = true;
        p.erase(0, 1);
    }
    if (!p.empty() && p.back() == '/') {
        r.dir_only = true;
        while (!p.empty() && p.back() == '/') p.pop_back();
    }
    r.absolute = !p.empty() && p[0] == '/';
    r.anchored = p.find('/') != std::string::npos;
    r.parts = split(p);
    if (r.parts.empty()) return;
    rules_.push_back(std::move(r));
}

void ExcludeMatcher::add_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw_io("cannot read exclude file " + path, errno ? errno : ENOENT);
    std::string line;
    while (std::getline(f, line)) add(line);
}

bool ExcludeMatcher::excluded(const std::string& rel, const std::string& abs, bool is_dir) const {
    if (rules_.empty()) return false;
    const auto rel_parts = split(rel);
    std::vector<std::string> abs_parts;
    bool excluded = false;
    for (const auto& r : rules_) {
        if (r.dir_only && !is_dir) continue;
        bool m;
        if (!r.anchored) {
            m = !rel_parts.empty() &&
                ::fnmatch(r.parts[0].c_str(), rel_parts.back().c_str(), 0) == 0;
        } else {
            m = match_parts(r.parts, 0, rel_parts, 0);
            if (!m && r.absolute) {
                if (abs_parts.empty()) abs_parts = split(abs);
                m = match_parts(r.parts, 0, abs_parts, 0);
            }
        }
        if (m) excluded = !r.negate;
    }
    return excluded;
}

}  // namespace strata
