// Input: the text of a repository config file. An accepted config must describe a repository this
// build can use (known version, consistent chunker bounds within the blob limit), and writing it
// back in the documented layout must parse to the same settings. An encrypted (format 2) config's
// sealed settings are "opened" here by reading their bytes as the settings' text, so the fuzzer
// reaches the parsing of both the clear header and the settings.
#include <sstream>

#include "store/format/format.h"
#include "store/repo/repository.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

namespace {

std::string opened_as_text(RepoConfig&, const Bytes& sealed) {
    return std::string(sealed.begin(), sealed.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    RepoConfig c;
    try {
        c = parse_repo_config(text, "config", opened_as_text);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption || e.kind() == StoreError::Kind::Format,
                     "config rejected as corruption or format");
        return 0;
    }
    FUZZ_REQUIRE(c.version <= format::kRepositoryVersion, "accepted version is readable");
    FUZZ_REQUIRE(c.chunker.min_size <= c.chunker.avg_size && c.chunker.avg_size <= c.chunker.max_size,
                 "accepted chunker bounds ordered");
    FUZZ_REQUIRE(c.chunker.max_size <= format::kMaxBlobSize, "accepted chunk_max within blob limit");
    FUZZ_REQUIRE(c.zstd_level >= 1 && c.zstd_level <= 19, "accepted zstd level usable");
    std::ostringstream settings;
    settings << "chunker = gear-fastcdc-v1\nchunk_min = " << c.chunker.min_size
             << "\nchunk_avg = " << c.chunker.avg_size << "\nchunk_max = " << c.chunker.max_size
             << "\nzstd_level = " << c.zstd_level << "\n";
    std::ostringstream out;
    out << "strata repository\nversion = " << c.version << "\nid = " << c.id << "\n";
    if (c.version >= format::kEncryptedRepositoryVersion)
        out << "encryption = " << format::kEncryptionScheme << "\nsettings = "
            << to_hex(as_bytes(settings.str())) << "\n";
    else
        out << settings.str();
    if (c.id.find('\n') != std::string::npos) return 0;
    RepoConfig again;
    try {
        again = parse_repo_config(out.str(), "config", opened_as_text);
    } catch (const StoreError&) {
        FUZZ_REQUIRE(false, "an accepted config, written back, parses again");
    }
    FUZZ_REQUIRE(again.version == c.version && again.id == c.id &&
                     again.chunker.min_size == c.chunker.min_size &&
                     again.chunker.avg_size == c.chunker.avg_size &&
                     again.chunker.max_size == c.chunker.max_size && again.zstd_level == c.zstd_level,
                 "config round trip");
    return 0;
}
