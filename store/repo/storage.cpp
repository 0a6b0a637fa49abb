#include "store/repo/storage.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "store/backend/s3/s3_location.h"

namespace strata {
namespace {

std::mutex options_mu;
StorageOptions& options_slot() {
    static StorageOptions options;
    return options;
}

}  // namespace

void set_storage_options(StorageOptions options) {
    std::lock_guard lock(options_mu);
    options_slot() = std::move(options);
}

const StorageOptions& storage_options() {
    std::lock_guard lock(options_mu);
    return options_slot();
}

std::string cache_root(const StorageOptions& options) {
    if (!options.cache_dir.empty()) return options.cache_dir;
    if (::geteuid() == 0) return "/var/cache/strata";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg && xdg[0] == '/')
        return std::string(xdg) + "/strata";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::string(home) + "/.cache/strata";
    throw_usage(
        "no folder for the local cache of remote repositories: HOME is not set; pass "
        "--cache-dir DIR");
}

RepositoryStorage open_storage(const std::string& location) {
    if (s3::is_s3_location(location)) return s3_storage(location, storage_options());
    return local_storage(location);
}

RepositoryObjects open_repository_objects(const std::string& location) {
    if (s3::is_s3_location(location)) return s3_objects(location, storage_options());
    RepositoryStorage s = local_storage(location);
    return {s.location, std::move(s.objects)};
}

}  // namespace strata
