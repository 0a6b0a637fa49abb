// chunk_sizes: chooses the chunker parameters (store/format/format.h kDefaultChunk*) by measuring, for
// candidate (min, avg, max) sets, on two versions of the same data:
//   - how many bytes of version 2 are new, i.e. in chunks version 1 does not have (dedup quality),
//   - how many chunks both versions make (index entries, and the read amplification of the mount:
//     a small read through the mount decompresses a whole chunk),
//   - the chunker's own throughput on one core (boundaries only; hashing costs the same per byte
//     whatever the chunk size), in CPU time on the largest file held in memory, so that a busy
//     machine does not skew it.
// Files are cut exactly as ingest cuts them (store/ingest/ingest.cpp read_extent): a file shorter than
// min is one chunk, the rest is fed to Chunker::next_boundary in the same way.
//
// Usage: chunk_sizes V1_DIR V2_DIR [MIN,AVG,MAX ...]   (sizes in KiB; default: the sets below)
// Prints a markdown table on stdout. bench/chunk_sizes.sh makes V1 and V2 with bench/gen_data.py.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/format/chunker.h"
#include "store/format/format.h"
#include "store/base/hash.h"

namespace fs = std::filesystem;
using strata::BlobId;
using strata::BlobIdHash;
using strata::ByteView;
using strata::Chunker;
using strata::ChunkerParams;

namespace {

// Candidates, in KiB: the averages the peers use (restic 1 MiB, borg 2 MiB) and the ones below,
// each with min = avg/4 and max = 4*avg like our default; plus restic's own bounds for comparison.
const std::vector<ChunkerParams> kCandidates = {
    {64u << 10, 256u << 10, 1u << 20},   {128u << 10, 512u << 10, 2u << 20},
    {256u << 10, 1u << 20, 4u << 20},    {512u << 10, 1u << 20, 8u << 20},
    {512u << 10, 2u << 20, 8u << 20},    {1u << 20, 4u << 20, 16u << 20},
};

// Read size per call, as ingest's kReadBlock: the chunker sees the same buffer boundaries.
constexpr std::size_t kReadBlock = 8u << 20;

struct Pass {
    std::uint64_t bytes = 0;      // logical bytes chunked
    std::uint64_t chunks = 0;     // chunks cut (with repeats)
    std::uint64_t new_bytes = 0;  // bytes in chunks not seen before (first occurrence counts)
    std::uint64_t new_chunks = 0;
    std::uint64_t big_chunks = 0;  // chunks of files larger than min: those the chunker cut
    std::uint64_t big_bytes = 0;
    std::uint64_t big_new_bytes = 0;
};

// Bytes of the largest file the chunker throughput is measured on, at most.
constexpr std::size_t kThroughputSample = 1u << 30;
// The best of this many timed passes over the sample.
constexpr int kThroughputPasses = 3;

std::vector<fs::path> files_under(const fs::path& root) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.symlink_status().type() == fs::file_type::regular) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Chunks every file, adding unseen chunk ids to `seen`.
Pass chunk_tree(const std::vector<fs::path>& files, const Chunker& chunker,
                std::unordered_set<BlobId, BlobIdHash>& seen) {
    Pass pass;
    std::vector<std::uint8_t> buf;
    const std::size_t max = chunker.params().max_size;
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            std::cerr << "chunk_sizes: cannot open " << path << "\n";
            std::exit(1);
        }
        buf.clear();
        std::uint64_t left = fs::file_size(path);  // read no more than that: no 8 MiB buffer per small file
        bool eof = false;
        bool cut = false;  // the chunker cut this file (it is longer than min)
        while (true) {
            while (!eof && buf.size() < kReadBlock + max) {
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kReadBlock, left));
                std::size_t old = buf.size();
                buf.resize(old + want);
                in.read(reinterpret_cast<char*>(buf.data() + old), static_cast<std::streamsize>(want));
                const auto got = static_cast<std::size_t>(in.gcount());
                buf.resize(old + got);
                left -= got;
                if (got == 0 || left == 0) eof = true;
            }
            if (!cut && buf.size() > chunker.params().min_size) cut = true;
            std::size_t start = 0;
            while (start < buf.size()) {
                ByteView rest(buf.data() + start, buf.size() - start);
                std::size_t len = chunker.next_boundary(rest, eof);
                if (len == 0) break;
                BlobId id = strata::sha256(rest.first(len));
                ++pass.chunks;
                pass.bytes += len;
                if (cut) {
                    ++pass.big_chunks;
                    pass.big_bytes += len;
                }
                if (seen.insert(id).second) {
                    ++pass.new_chunks;
                    pass.new_bytes += len;
                    if (cut) pass.big_new_bytes += len;
                }
                start += len;
            }
            buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(start));
            if (eof && buf.empty()) break;
        }
    }
    return pass;
}

double thread_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Up to kThroughputSample bytes of the largest of `files`.
std::vector<std::uint8_t> throughput_sample(const std::vector<fs::path>& files) {
    const fs::path* largest = nullptr;
    std::uintmax_t size = 0;
    for (const auto& f : files)
        if (auto n = fs::file_size(f); n > size) size = n, largest = &f;
    std::vector<std::uint8_t> data(std::min<std::uintmax_t>(size, kThroughputSample));
    if (largest) {
        std::ifstream in(*largest, std::ios::binary);
        in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
        data.resize(static_cast<std::size_t>(in.gcount()));
    }
    return data;
}

// Chunker throughput in MB/s of CPU time: boundaries only, over the whole sample.
double chunker_mb_per_s(const Chunker& chunker, const std::vector<std::uint8_t>& sample) {
    double best = 0;
    std::uint64_t guard = 0;  // keeps the loop from being optimized away
    for (int pass = 0; pass < kThroughputPasses; ++pass) {
        const double t0 = thread_cpu_seconds();
        for (std::size_t at = 0; at < sample.size();) {
            std::size_t len = chunker.next_boundary(ByteView(sample.data() + at, sample.size() - at), true);
            guard += len;
            at += len;
        }
        const double s = thread_cpu_seconds() - t0;
        if (s > 0) best = std::max(best, static_cast<double>(sample.size()) / 1e6 / s);
    }
    if (guard == 42) std::cerr << "";
    return best;
}

bool parse_set(const std::string& s, ChunkerParams& p) {
    unsigned long a, b, c;
    if (std::sscanf(s.c_str(), "%lu,%lu,%lu", &a, &b, &c) != 3) return false;
    p = {static_cast<std::uint32_t>(a << 10), static_cast<std::uint32_t>(b << 10),
         static_cast<std::uint32_t>(c << 10)};
    return true;
}

std::string kib(std::uint32_t v) {
    return v >= (1u << 20) && v % (1u << 20) == 0 ? std::to_string(v >> 20) + "M" : std::to_string(v >> 10) + "K";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: chunk_sizes V1_DIR V2_DIR [MIN,AVG,MAX ...]  (sizes in KiB)\n";
        return 2;
    }
    std::vector<ChunkerParams> sets;
    for (int i = 3; i < argc; ++i) {
        ChunkerParams p;
        if (!parse_set(argv[i], p)) {
            std::cerr << "chunk_sizes: '" << argv[i] << "' is not MIN,AVG,MAX in KiB (e.g. 256,1024,4096)\n";
            return 2;
        }
        sets.push_back(p);
    }
    if (sets.empty()) sets = kCandidates;
    const auto v1 = files_under(argv[1]);
    const auto v2 = files_under(argv[2]);
    const auto sample = throughput_sample(v1);

    std::cout << "| min / avg / max | v1 chunks | of which cut (files > min) | mean cut chunk (KiB) "
                 "| v2 new bytes (MB) | v2 new % | of which in cut files (MB) | v2 new chunks "
                 "| index entries v1+v2 | chunker MB/s (1 core) |\n"
              << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& p : sets) {
        Chunker chunker(p);
        std::unordered_set<BlobId, BlobIdHash> seen;
        Pass a = chunk_tree(v1, chunker, seen);
        Pass b = chunk_tree(v2, chunker, seen);
        const bool is_default = p.min_size == strata::format::kDefaultChunkMin &&
                                p.avg_size == strata::format::kDefaultChunkAvg &&
                                p.max_size == strata::format::kDefaultChunkMax;
        char line[512];
        std::snprintf(line, sizeof line,
                      "| %s / %s / %s%s | %llu | %llu | %.0f | %.1f | %.2f | %.1f | %llu | %zu | %.0f |\n",
                      kib(p.min_size).c_str(), kib(p.avg_size).c_str(), kib(p.max_size).c_str(),
                      is_default ? " (default)" : "", static_cast<unsigned long long>(a.chunks),
                      static_cast<unsigned long long>(a.big_chunks),
                      a.big_chunks ? static_cast<double>(a.big_bytes) / static_cast<double>(a.big_chunks) / 1024 : 0.0,
                      static_cast<double>(b.new_bytes) / 1e6,
                      100.0 * static_cast<double>(b.new_bytes) / static_cast<double>(b.bytes),
                      static_cast<double>(b.big_new_bytes) / 1e6, static_cast<unsigned long long>(b.new_chunks),
                      seen.size(), chunker_mb_per_s(chunker, sample));
        std::cout << line << std::flush;
    }
    return 0;
}
