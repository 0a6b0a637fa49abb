#include <iostream>

#include "store/format/format.h"
#include "store/repo/repository.h"
#include "tools/command.h"
#include "tools/password.h"

namespace strata::cli {

int cmd_init(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata init REPO");
    add_common_options(opts, false);
    InitOptions init = default_init_options();
    std::string encryption = format::kEncryptionScheme;
    std::uint32_t kdf_memory_mib = init.kdf.memory_kib / 1024;
    opts.add_options()("compression-level", po::value<int>(&init.zstd_level),
                       "zstd level for new blobs, 1-19 (default 3)")(
        "encryption", po::value<std::string>(&encryption),
        "aes-256-gcm (the default: every object encrypted and authenticated; a password opens "
        "it) or none (stored in the clear)")(
        "kdf-memory", po::value<std::uint32_t>(&kdf_memory_mib),
        "MiB of memory Argon2id spends on each password (default 128; 8 to 4096)")(
        "kdf-time", po::value<std::uint32_t>(&init.kdf.time_cost),
        "Argon2id passes (default 3; 1 to 16)");
    auto line = parse_command_line(args, opts, io, false);
    if (!line) return kOk;
    auto& [vm, pos, repo] = *line;
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    if (encryption != "none" && encryption != format::kEncryptionScheme)
        throw UsageError("--encryption " + encryption + ": choose " + format::kEncryptionScheme +
                         " or none");
    if (kdf_memory_mib < crypto::kMinMemoryKib / 1024 ||
        kdf_memory_mib > crypto::kMaxMemoryKib / 1024)
        throw UsageError("--kdf-memory " + std::to_string(kdf_memory_mib) +
                         ": choose 8 to 4096 (MiB)");
    if (init.kdf.time_cost < 1 || init.kdf.time_cost > crypto::kMaxTimeCost)
        throw UsageError("--kdf-time " + std::to_string(init.kdf.time_cost) + ": choose 1 to 16");
    init.kdf.memory_kib = kdf_memory_mib * 1024;
    Repository::check_init_target(repo);
    if (encryption != "none") {
        PasswordPlace place;
        if (vm.count("password-file")) place.file = vm["password-file"].as<std::string>();
        init.password = new_password("", &place, repo);
    }
    Repository::init(repo, init);
    io.out << "created " << (init.password ? "encrypted " : "unencrypted ")
           << "strata repository at " << repo << "\n";
    return kOk;
}

}  // namespace strata::cli
