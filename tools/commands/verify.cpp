#include "store/maintenance/verify.h"

#include <iostream>

#include "store/maintenance/verify_keyless.h"
#include "tools/command.h"
#include "tools/json.h"
#include "tools/metrics.h"

namespace strata::cli {
namespace {

// Paths shown per snapshot in text output; --json lists up to kMaxReportedPaths.
constexpr std::size_t kPathsShown = 20;

Json report_json(const VerifyReport& r) {
    Json j;
    j["clean"] = r.clean();
    j["affected_known"] = r.affected_known;
    j["problems"] = Json::array();
    for (const auto& p : r.problems)
        j["problems"].push_back({{"kind", p.kind}, {"object", p.object}, {"detail", p.detail}});
    j["notes"] = r.notes;
    j["affected"] = Json::array();
    for (const auto& a : r.affected) {
        Json e = a.record_damaged ? Json{{"id", a.id.hex()}, {"short_id", a.id.short_hex()}}
                                  : snapshot_json(a.snapshot);
        e["record_damaged"] = a.record_damaged;
        e["damaged_paths"] = Json::array();
        for (const auto& p : a.paths) e["damaged_paths"].push_back(p);
        e["damaged_paths_total"] = a.paths_total;
        j["affected"].push_back(e);
    }
    j["counts"] = {{"snapshots", r.snapshots},   {"trees", r.trees},
                   {"packs", r.packs},           {"blobs", r.blobs},
                   {"packs_read", r.packs_read}, {"bytes_read", r.bytes_read},
                   {"blobs_read", r.blobs_read}, {"packs_vanished", r.packs_vanished}};
    return j;
}

}  // namespace

int cmd_verify(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata verify REPO");
    add_common_options(opts, true);
    opts.add_options()(
        "read-data", "also read every pack: check its checksum, decompress and re-hash every blob")(
        "read-data-subset", po::value<std::string>(),
        "read only part of the packs: N% (those verified longest ago first) or n/m (slice n of m)")(
        "without-password",
        "never ask for a password: of an encrypted repository, check only what needs no key "
        "(the packs' checksums and the objects' names and lengths)");
    add_metrics_option(opts);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    MetricsFile metrics(vm.count("metrics-file") ? vm["metrics-file"].as<std::string>() : "",
                        "verify", io);
    metrics.set_repository(repo_dir);
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    const bool json = vm.count("json") > 0;
    VerifyOptions vo;
    if (vm.count("read-data") && vm.count("read-data-subset"))
        throw UsageError("give --read-data or --read-data-subset, not both");
    if (vm.count("read-data")) vo.read_data = VerifyOptions::ReadData::All;
    if (vm.count("read-data-subset"))
        parse_read_data_subset(vm["read-data-subset"].as<std::string>(), vo);
    if (io.err_is_tty && !json) {
        vo.on_progress = [&io](const VerifyProgress& p) {
            io.err << "\r\033[K[" << p.phase << "] " << p.done << "/" << p.total;
            if (p.bytes) io.err << ", " << format_size(p.bytes) << " read";
            io.err << std::flush;
        };
    }

    const bool keyless = vm.count("without-password") > 0;
    if (keyless && vm.count("password-file"))
        throw UsageError("give --password-file or --without-password, not both");

    VerifyReport r;
    bool keyless_run = false;
    if (keyless) {
        RepositoryObjects objects = open_repository_objects(repo_dir);
        if (load_repo_config_header(*objects.objects, objects.location).encrypted) {
            r = verify_without_keys(*objects.objects, objects.location, vo);
            keyless_run = true;
        }
    }
    if (!keyless_run) {
        // The config first: a missing or foreign repository is an error of its own, not damage.
        std::unique_ptr<Repository> bare;
        try {
            bare = Repository::open_for_repair(repo_dir);
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Password ||
                std::string(e.what()).find("no password was given") == std::string::npos)
                throw;
            throw StoreError(StoreError::Kind::Password,
                             std::string(e.what()) +
                                 "; `strata verify --without-password` checks what needs no key");
        }
        std::unique_ptr<Repository> repo;
        std::string index_error = bare->index_problem();
        if (index_error.empty()) {
            try {
                repo = Repository::open(repo_dir);
            } catch (const StoreError& e) {
                if (e.kind() == StoreError::Kind::Usage || e.kind() == StoreError::Kind::Format)
                    throw;
                index_error = e.what();
            }
        }
        r = repo ? verify(*repo, vo) : verify_without_index(*bare, index_error, vo);
        if (keyless)
            r.notes.push_back(
                "the repository is not encrypted: it was checked whole, with no password");
    }
    if (io.err_is_tty && !json) io.err << "\r\033[K" << std::flush;
    metrics.set("verify_problems", static_cast<double>(r.problems.size()),
                "Damage the last verify found (problems; 0: none).");
    metrics.set("verify_bytes_read", static_cast<double>(r.bytes_read),
                "Bytes of packs the last verify read.");
    metrics.set("verify_snapshots_checked", static_cast<double>(r.snapshots),
                "Snapshot records the last verify checked.");
    metrics.finish(r.clean(), r.problems.size());

    if (json) {
        Json j = report_json(r);
        j["without_password"] = keyless_run;
        io.out << dump(j) << "\n";
        return r.clean() ? kOk : kFailure;
    }
    if (keyless_run) {
        io.out << "checked without the password (the repository is encrypted)\n"
               << "snapshots  " << r.snapshots << " sealed records: names and lengths\n"
               << "packs      " << r.packs << ": footers, names and sealed trailers\n";
        if (vo.read_data != VerifyOptions::ReadData::None)
            io.out << "read-data  " << r.packs_read << " packs, " << format_size(r.bytes_read)
                   << ": checksums\n";
    } else {
        io.out << "snapshots  " << r.snapshots << " records checked\n"
               << "packs      " << r.packs
               << (r.affected_known ? " checked against the index (" : " trailers read (")
               << r.blobs << " blobs)\n"
               << "trees      " << r.trees << " read and decoded\n";
        if (vo.read_data != VerifyOptions::ReadData::None)
            io.out << "read-data  " << r.packs_read << " packs, " << format_size(r.bytes_read)
                   << ", " << r.blobs_read << " blobs decompressed and re-hashed\n";
    }
    if (r.packs_vanished)
        io.out << "           " << r.packs_vanished
               << " packs were pruned while verify ran (skipped)\n";
    for (const auto& n : r.notes) io.out << "note: " << n << "\n";
    if (r.clean()) {
        io.out << "no damage found\n";
        return kOk;
    }
    io.out << "\nDAMAGE: " << r.problems.size() << " problem" << (r.problems.size() == 1 ? "" : "s")
           << "\n";
    for (const auto& p : r.problems)
        io.out << "  " << p.kind << "  " << p.object << ": " << p.detail << "\n";
    if (keyless_run) {
        io.out << "\nwhich snapshots are affected is known to `strata verify` with the password\n";
    } else if (!r.affected_known) {
        io.out << "\nwhich snapshots are affected is known once `strata repair-index` has rebuilt "
                  "the index\n";
    } else if (r.affected.empty()) {
        io.out << "no snapshot is affected (the damaged data is unused; prune removes it)\n";
    } else {
        io.out << "\naffected snapshots: " << r.affected.size() << "\n";
        for (const auto& a : r.affected) {
            if (a.record_damaged) {
                io.out << "  " << a.id.short_hex() << "  the snapshot record itself is damaged\n";
                continue;
            }
            io.out << "  " << a.id.short_hex() << "  "
                   << format_time_utc(a.snapshot.rec.time_sec, a.snapshot.rec.time_nsec, false)
                   << "  " << printable(a.snapshot.rec.host) << ": " << a.paths_total
                   << " damaged path" << (a.paths_total == 1 ? "" : "s") << "\n";
            for (std::size_t i = 0; i < a.paths.size() && i < kPathsShown; ++i)
                io.out << "      " << printable(a.paths[i]) << "\n";
            if (a.paths_total > kPathsShown)
                io.out << "      ... and " << a.paths_total - kPathsShown
                       << " more (--json lists up to " << kMaxReportedPaths << ")\n";
        }
    }
    if (keyless_run)
        io.out << "restore the damaged objects from another copy of the repository, or run "
                  "`strata verify` with the password to see what the damage reaches\n";
    else
        io.out << "\nrun `strata repair-index` if the index disagrees with the packs; restore "
                  "damaged files from another copy, or forget the affected snapshots\n";
    return kFailure;
}

}  // namespace strata::cli
