#include "store/maintenance/verify.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "store/base/deep_stack.h"
#include "store/format/compress.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/verifier.h"
#include "store/maintenance/verify_read.h"
#include "store/repo/pending_deletion.h"

namespace strata {
namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(250);

}  // namespace

namespace verification {

VerifyReport Verifier::run(const std::string& cannot_record) {
    if (!cannot_record.empty()) {
        recording_ = false;
        report_.notes.push_back("verification times are not recorded (" + cannot_record +
                                "); subset runs cannot tell which packs were read");
    }
    check_records();
    check_packs();
    check_trees();
    if (opts_.read_data != VerifyOptions::ReadData::None) read_data();
    run_with_deep_stack([&] {  // damaged() and collect() recurse per directory level
        find_affected();
        return 0;
    });
    return std::move(report_);
}

VerifyReport Verifier::run_without_index(const std::string& index_error) {
    problem("index-unreadable", "index", index_error);
    report_.affected_known = false;
    report_.notes.push_back(
        "without the index only snapshot records and packs were checked; run `strata "
        "repair-index` to rebuild it from the packs, then verify again to check the trees");
    check_records();
    std::vector<PackToCheck> readable;  // packs whose trailer reads, with its blobs
    for (const auto& object : repo_.objects().list(format::kPackDir)) {
        const std::string& name = object.name;
        if (!pack_id_from_name(name)) continue;
        report_.packs++;
        try {
            auto entries = read_pack_trailer(repo_.objects(), repo_.codec(), name, object.size);
            report_.blobs += entries.size();
            if (opts_.read_data == VerifyOptions::ReadData::None) continue;
            std::vector<Located> blobs;
            for (const auto& e : entries)
                blobs.push_back({e.id, {0, e.offset, e.stored_size, e.raw_size, e.type, e.codec}});
            readable.push_back(to_check(name, blobs));
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) continue;  // pruned meanwhile
            problem("pack-trailer", name, e.what());
        }
    }
    check_packs_read_data(
        repo_.objects(), repo_.codec(), readable.size(),
        [&](std::size_t k) { return std::move(readable[k]); },
        [&](std::size_t, const PackToCheck& c, const PackFindings& f) {
            if (!f.missing) record_findings(c, f, false);
        });
    return std::move(report_);
}

void Verifier::problem(const std::string& kind, const std::string& object,
                       const std::string& detail) {
    report_.problems.push_back({kind, object, detail});
}

void Verifier::progress(const char* phase, std::uint64_t done, std::uint64_t total, bool force) {
    if (!opts_.on_progress) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_progress_ < kProgressInterval) return;
    last_progress_ = now;
    opts_.on_progress({phase, done, total, report_.bytes_read});
}

}  // namespace verification

using verification::Verifier;

namespace {

void check_options(const VerifyOptions& o) {
    if (o.read_data == VerifyOptions::ReadData::Percent && !(o.percent > 0 && o.percent <= 100))
        throw_usage("the read-data subset must be more than 0% and at most 100%");
    if (o.read_data == VerifyOptions::ReadData::Slice &&
        (o.slices == 0 || o.slice == 0 || o.slice > o.slices))
        throw_usage("the read-data subset n/m needs 1 <= n <= m");
}

}  // namespace

void parse_read_data_subset(const std::string& text, VerifyOptions& opts) {
    auto bad = [&]() {
        throw_usage("--read-data-subset takes a share like 10% or a slice like 2/7, not \"" + text +
                    "\"");
    };
    try {
        if (!text.empty() && text.back() == '%') {
            std::size_t used = 0;
            double v = std::stod(text.substr(0, text.size() - 1), &used);
            if (used != text.size() - 1) bad();
            opts.read_data = VerifyOptions::ReadData::Percent;
            opts.percent = v;
        } else if (auto slash = text.find('/'); slash != std::string::npos) {
            std::size_t u1 = 0, u2 = 0;
            unsigned long n = std::stoul(text.substr(0, slash), &u1);
            unsigned long m = std::stoul(text.substr(slash + 1), &u2);
            if (u1 != slash || u2 != text.size() - slash - 1 || m > UINT32_MAX) bad();
            opts.read_data = VerifyOptions::ReadData::Slice;
            opts.slice = static_cast<std::uint32_t>(n);
            opts.slices = static_cast<std::uint32_t>(m);
        } else {
            bad();
        }
    } catch (const std::logic_error&) {  // stod/stoul: not a number
        bad();
    }
    check_options(opts);
}

VerifyReport verify(Repository& repo, const VerifyOptions& opts) {
    check_options(opts);
    std::string cannot_record;
    if (opts.read_data != VerifyOptions::ReadData::None) {
        try {
            repo.open_index_writable();  // to record last_verified
        } catch (const StoreError& e) {
            cannot_record = e.what();
        }
    }
    return Verifier(repo, opts).run(cannot_record);
}

VerifyReport verify_without_index(Repository& repo, const std::string& index_error,
                                  const VerifyOptions& opts) {
    check_options(opts);
    return Verifier(repo, opts).run_without_index(index_error);
}

}  // namespace strata
