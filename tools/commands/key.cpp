#include <iostream>

#include "store/base/utc_time.h"
#include "store/repo/repo_keys.h"
#include "tools/command.h"
#include "tools/json.h"
#include "tools/password.h"

namespace strata::cli {
namespace {

const char* kKeyHelp =
    "\nSubcommands:\n"
    "  list           the key objects: id, host and time it was made, Argon2id costs; * marks\n"
    "                 the one the password given opens\n"
    "  add            a key object for a new password (--new-password-file FILE, or asked twice)\n"
    "  remove ID      removes a key object (an id prefix will do); never the last usable one\n"
    "  passwd         changes the password given: adds a key for the new one, removes the old\n"
    "No data is rewritten: every key object wraps the same master key.\n";

BlobId key_by_prefix(const std::vector<KeyInfo>& keys, const std::string& prefix) {
    std::optional<BlobId> found;
    for (const auto& k : keys) {
        if (k.id.hex().rfind(prefix, 0) != 0) continue;
        if (found) throw UsageError("key id prefix " + prefix + " is ambiguous; give more digits");
        found = k.id;
    }
    if (!found || prefix.empty())
        throw StoreError(StoreError::Kind::NotFound,
                         "no key " + prefix + " in the repository (see `strata key list`)");
    return *found;
}

}  // namespace

int cmd_key(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata key list|add|remove ID|passwd REPO");
    add_common_options(opts, true);
    std::string new_file;
    crypto::KdfParams kdf;
    std::uint32_t kdf_memory_mib = kdf.memory_kib / 1024;
    opts.add_options()("new-password-file", po::value<std::string>(&new_file),
                       "add and passwd: the new password is the first line of FILE")(
        "kdf-memory", po::value<std::uint32_t>(&kdf_memory_mib),
        "add and passwd: MiB of memory Argon2id spends on the new password (default 128)")(
        "kdf-time", po::value<std::uint32_t>(&kdf.time_cost),
        "add and passwd: Argon2id passes (default 3)");
    std::vector<std::string> pos;
    // The subcommand comes first: `strata key list REPO`.
    std::vector<std::string> rest = args;
    std::string sub;
    if (!rest.empty() && rest[0][0] != '-') {
        sub = rest[0];
        rest.erase(rest.begin());
    }
    auto line = parse_command_line(rest, opts, io, true, kKeyHelp);
    if (!line) return kOk;
    auto& vm = line->vm;
    pos = line->positional;
    if (sub != "list" && sub != "add" && sub != "remove" && sub != "passwd")
        throw UsageError(sub.empty()
                             ? "name a subcommand: list, add, remove or passwd"
                             : "unknown subcommand \"" + sub + "\" (list, add, remove or passwd)");
    if (sub == "remove" ? pos.size() != 1 : !pos.empty())
        throw UsageError(sub == "remove" ? "name the key ID to remove" : "unexpected argument");
    if (kdf_memory_mib < crypto::kMinMemoryKib / 1024 ||
        kdf_memory_mib > crypto::kMaxMemoryKib / 1024 || kdf.time_cost < 1 ||
        kdf.time_cost > crypto::kMaxTimeCost)
        throw UsageError("--kdf-memory is 8 to 4096 (MiB), --kdf-time 1 to 16");
    kdf.memory_kib = kdf_memory_mib * 1024;

    auto repo = Repository::open_for_repair(line->repo);
    const auto& unlocked = repo->config().unlocked;
    if (!unlocked)
        throw UsageError("the repository " + line->repo +
                         " is not encrypted (created with --encryption none): it has no keys");
    const BlobId repo_id = *BlobId::from_hex(repo->config().id);
    ObjectStore& objects = repo->objects();

    if (sub == "list") {
        const auto keys = list_repository_keys(objects, repo_id);
        if (vm.count("json")) {
            Json all = Json::array();
            for (const auto& k : keys) {
                Json j = {{"id", k.id.hex()}, {"current", k.id == unlocked->key_id}};
                if (k.problem.empty()) {
                    j["host"] = k.host;
                    j["created"] = utc_time_text(k.created);
                    j["kdf"] = {{"algorithm", "argon2id"},
                                {"time_cost", k.kdf.time_cost},
                                {"memory_kib", k.kdf.memory_kib}};
                } else {
                    j["problem"] = k.problem;
                }
                all.push_back(j);
            }
            io.out << dump(all) << "\n";
            return kOk;
        }
        for (const auto& k : keys) {
            io.out << (k.id == unlocked->key_id ? "* " : "  ") << k.id.short_hex() << "  ";
            if (!k.problem.empty())
                io.out << "unusable: " << k.problem << "\n";
            else
                io.out << utc_time_text(k.created) << "  " << printable(k.host)
                       << "  argon2id t=" << k.kdf.time_cost << " m=" << k.kdf.memory_kib / 1024
                       << "MiB\n";
        }
        return kOk;
    }
    if (sub == "remove") {
        const BlobId id = key_by_prefix(list_repository_keys(objects, repo_id), pos[0]);
        remove_repository_key(objects, repo_id, id);
        io.out << "removed key " << id.short_hex() << "\n";
        return kOk;
    }
    const std::string password = new_password(new_file, nullptr, line->repo);
    const BlobId added = add_repository_key(objects, unlocked->master, repo_id, password, kdf);
    if (sub == "add") {
        io.out << "added key " << added.short_hex() << "\n";
        return kOk;
    }
    // passwd: the new key is durable before the old one goes.
    remove_repository_key(objects, repo_id, unlocked->key_id);
    io.out << "changed the password: key " << unlocked->key_id.short_hex() << " replaced by "
           << added.short_hex() << "\n";
    return kOk;
}

}  // namespace strata::cli
