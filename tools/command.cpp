#include "tools/command.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>

#include "store/backend/s3/s3_location.h"
#include "store/base/utc_time.h"
#include "store/format/format.h"
#include "store/maintenance/repair.h"
#include "store/maintenance/verify.h"
#include "tools/password.h"

namespace strata::cli {

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        std::vector<std::string>& positional) {
    po::options_description all;
    all.add(opts);
    all.add_options()("positional", po::value<std::vector<std::string>>(), "");
    po::positional_options_description pos;
    pos.add("positional", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("positional")) positional = vm["positional"].as<std::vector<std::string>>();
    return vm;
}

std::optional<CommandLine> parse_command_line(const std::vector<std::string>& args,
                                              const po::options_description& opts, CliIo& io,
                                              bool repo_must_exist, const char* help_epilogue) {
    CommandLine line;
    line.vm = parse(args, opts, line.positional);
    if (line.vm.count("help")) {
        io.out << opts << help_epilogue;
        return std::nullopt;
    }
    line.repo = repo_path(line.vm, line.positional, repo_must_exist);
    set_storage_options(storage_options_from(line.vm, io));
    return line;
}

StorageOptions storage_options_from(const po::variables_map& vm, CliIo& io) {
    StorageOptions o;
    // Absolute: the mount's daemon leaves the current directory.
    if (vm.count("cache-dir"))
        o.cache_dir = std::filesystem::absolute(vm["cache-dir"].as<std::string>()).string();
    if (vm.count("cacert")) {
        o.ca_file = std::filesystem::absolute(vm["cacert"].as<std::string>()).string();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(o.ca_file, ec))
            throw UsageError("--cacert " + o.ca_file +
                             ": no such file (give the PEM file of the CA that issued the "
                             "object store's certificate)");
    }
    o.s3_virtual_host = vm.count("s3-virtual-host") > 0;
    o.on_warning = [&io](const std::string& message) {
        static std::mutex mu;
        std::lock_guard lock(mu);
        io.err << "strata: " << message << "\n" << std::flush;
    };
    PasswordPlace place;
    if (vm.count("password-file"))
        place.file = std::filesystem::absolute(vm["password-file"].as<std::string>()).string();
    o.password = password_source(std::move(place));
    // Retries happen on the threads that upload and read: one line at a time.
    o.on_retry = [&io](const std::string& message) {
        static std::mutex mu;
        std::lock_guard lock(mu);
        io.err << "strata: " << message << "\n" << std::flush;
    };
    return o;
}

void add_common_options(po::options_description& opts, bool json) {
    opts.add_options()("repo,r", po::value<std::string>(),
                       "repository: a directory, or s3:http[s]://host[:port]/bucket[/prefix] "
                       "(default: $STRATA_REPO)");
    if (json) opts.add_options()("json", "print JSON instead of text");
    opts.add_options()("password-file", po::value<std::string>(),
                       "an encrypted repository's password: the first line of FILE (default: "
                       "$STRATA_PASSWORD_FILE, $STRATA_PASSWORD_COMMAND, $STRATA_PASSWORD, "
                       "else asked on the terminal)");
    opts.add_options()("cache-dir", po::value<std::string>(),
                       "where remote repositories keep their local index cache (default: "
                       "$XDG_CACHE_HOME/strata, ~/.cache/strata; /var/cache/strata for root)")(
        "cacert", po::value<std::string>(),
        "trust the CA certificates in FILE (PEM) for https, instead of the system's")(
        "s3-virtual-host",
        "address the bucket as bucket.host (virtual-hosted style) instead of "
        "host/bucket");
    opts.add_options()("help,h", "show this help");
}

void add_filter_options(po::options_description& opts) {
    opts.add_options()("host", po::value<std::vector<std::string>>(),
                       "only snapshots of host H (repeatable: any of them)")(
        "tag", po::value<std::vector<std::string>>(),
        "only snapshots with tags A,B (repeatable: any of the lists)")(
        "path", po::value<std::vector<std::string>>(),
        "only snapshots whose paths include P (repeatable: all of them)");
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = text.find(',', start);
        std::string one =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!one.empty()) out.push_back(one);
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

SnapshotFilter filter_from(const po::variables_map& vm) {
    SnapshotFilter f;
    if (vm.count("host")) f.hosts = vm["host"].as<std::vector<std::string>>();
    if (vm.count("tag"))
        for (const auto& t : vm["tag"].as<std::vector<std::string>>()) {
            auto list = split_commas(t);
            if (list.empty()) throw UsageError("--tag needs a tag");
            f.tag_lists.push_back(std::move(list));
        }
    if (vm.count("path"))
        for (const auto& p : vm["path"].as<std::vector<std::string>>()) {
            if (p.empty()) throw UsageError("--path needs a path");
            // As ingest records it: absolute, normalized, no trailing slash (but "/" stays).
            std::string abs = std::filesystem::absolute(p).lexically_normal().string();
            while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
            f.paths.push_back(abs);
        }
    return f;
}

bool SnapshotFilter::matches(const SnapshotRecord& r) const {
    if (!hosts.empty() && std::find(hosts.begin(), hosts.end(), r.host) == hosts.end())
        return false;
    for (const auto& p : paths)
        if (std::find(r.paths.begin(), r.paths.end(), p) == r.paths.end()) return false;
    if (tag_lists.empty()) return true;
    for (const auto& list : tag_lists) {
        bool all = true;
        for (const auto& t : list)
            all = all && std::find(r.tags.begin(), r.tags.end(), t) != r.tags.end();
        if (all) return true;
    }
    return false;
}

std::vector<Snapshot> SnapshotFilter::select(const std::vector<Snapshot>& all) const {
    std::vector<Snapshot> out;
    for (const auto& s : all)
        if (matches(s.rec)) out.push_back(s);
    return out;
}

static bool looks_like_repository(const std::string& p) {
    if (s3::is_s3_location(p)) return true;
    std::ifstream f(p + "/config");
    std::string first;
    return f && std::getline(f, first) && first == "strata repository";
}

std::string repo_path(const po::variables_map& vm, std::vector<std::string>& positional,
                      bool must_exist) {
    if (vm.count("repo")) return vm["repo"].as<std::string>();
    const char* env = std::getenv("STRATA_REPO");
    if (!positional.empty() && (!env || !must_exist || looks_like_repository(positional[0]))) {
        std::string p = positional.front();
        positional.erase(positional.begin());
        return p;
    }
    if (env && *env) return env;
    throw UsageError("no repository given: pass REPO, --repo REPO, or set STRATA_REPO");
}

std::string format_time_utc(std::int64_t sec, std::uint32_t nsec, bool with_nanos) {
    return with_nanos ? utc_time_text(sec, nsec) : utc_time_text(sec);
}

std::string format_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string format_mode(const TreeEntry& e) {
    std::string s(10, '-');
    switch (e.type) {
        case EntryType::Dir:
            s[0] = 'd';
            break;
        case EntryType::Symlink:
            s[0] = 'l';
            break;
        case EntryType::Fifo:
            s[0] = 'p';
            break;
        case EntryType::Socket:
            s[0] = 's';
            break;
        case EntryType::CharDev:
            s[0] = 'c';
            break;
        case EntryType::BlockDev:
            s[0] = 'b';
            break;
        case EntryType::File:
            break;
    }
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        if (e.mode & (1u << (8 - i))) s[1 + i] = rwx[i];
    if (e.mode & 04000) s[3] = (e.mode & 0100) ? 's' : 'S';
    if (e.mode & 02000) s[6] = (e.mode & 0010) ? 's' : 'S';
    if (e.mode & 01000) s[9] = (e.mode & 0001) ? 't' : 'T';
    return s;
}

std::size_t utf8_sequence_length(const std::string& s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    const std::size_t n = c >= 0xc2 && c <= 0xdf   ? 2
                          : c >= 0xe0 && c <= 0xef ? 3
                          : c >= 0xf0 && c <= 0xf4 ? 4
                                                   : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((byte(i + k) >> 6) != 2) return 0;
    // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
    const unsigned char second = byte(i + 1);
    if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) ||
        (c == 0xf0 && second < 0x90) || (c == 0xf4 && second > 0x8f))
        return 0;
    return n;
}

std::string printable(const std::string& name) {
    std::string out;
    auto escape = [&out](unsigned char c) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
    };
    for (std::size_t i = 0; i < name.size();) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        const std::size_t n = utf8_sequence_length(name, i);
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7f || n == 0)
            escape(c);
        else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(name[i + 1]) < 0xa0) {
            escape(c);  // a C1 control character (U+0080 to U+009F)
            escape(static_cast<unsigned char>(name[i + 1]));
        } else
            out.append(name, i, n);
        i += n ? n : 1;
    }
    return out;
}

std::size_t display_width(const std::string& text) {
    std::size_t width = 0;
    for (unsigned char c : text) width += (c >> 6) != 2;  // every byte but continuation bytes
    return width;
}

void compact_index(Repository& repo, CliIo& io) {
    const char* hook = std::getenv("STRATA_TEST_COMPACT_INDEX");
    try {
        repo.compact_index(hook && std::string(hook) == "1");
    } catch (const StoreError& e) {
        if (e.kind() == StoreError::Kind::Locked) return;  // the next writer compacts it
        io.err << "warning: the index was not compacted (" << e.what()
               << "); it stays usable as it is, and a later ingest or prune compacts it\n";
    }
}

std::unique_ptr<Repository> open_rebuilding_index(const std::string& repo_dir,
                                                  const std::string& purpose, double lock_wait,
                                                  CliIo& io, Repository::CacheSync sync) {
    return strata::open_rebuilding_index(
        repo_dir, purpose, lock_wait, [&io](const std::string& line) { io.err << line << "\n"; },
        sync);
}

}  // namespace strata::cli
