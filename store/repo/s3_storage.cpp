#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "store/backend/retrying_store.h"
#include "store/backend/s3/s3_store.h"
#include "store/format/format.h"
#include "store/repo/repository.h"
#include "store/repo/storage.h"

namespace strata {
namespace {

void make_private_dirs(const std::string& dir) {
    std::string at;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        at = dir.substr(0, pos);
        if (at.empty()) continue;
        if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST)
            throw_io(
                "create the cache folder " + at + " (pass --cache-dir DIR to put it elsewhere)",
                errno);
    }
}

s3::S3StoreOptions store_options(const std::string& location, const StorageOptions& options) {
    s3::S3StoreOptions o;
    o.location = s3::parse_s3_location(location, options.s3_virtual_host);
    o.credentials = s3::load_aws_credentials();
    o.ca_file = options.ca_file;
    return o;
}

std::unique_ptr<ObjectStore> retrying(std::unique_ptr<ObjectStore> store,
                                      const StorageOptions& options) {
    RetryPolicy policy;
    if (options.on_retry)
        policy.on_retry = [say = options.on_retry](const std::string& error, int attempt,
                                                   std::chrono::milliseconds wait) {
            say(error + "; trying again in " + std::to_string(wait.count() / 1000.0).substr(0, 4) +
                " s (try " + std::to_string(attempt + 1) + ")");
        };
    return open_retrying_store(std::move(store), std::move(policy));
}

}  // namespace

RepositoryStorage s3_storage(const std::string& location, const StorageOptions& options) {
    s3::S3StoreOptions o = store_options(location, options);
    const std::string url = o.location.url();
    // The config first: the repository's id names its cache folder.
    auto probe = retrying(s3::open_s3_store(o), options);
    if (!probe->exists(format::kConfigFile))
        throw StoreError(StoreError::Kind::Format,
                         url +
                             " holds no strata repository (no config object); create one with "
                             "`strata init " +
                             url + "`");
    RepoConfig config = load_repo_config(*probe, url, options.password);
    const std::string cache = cache_root(options) + "/" + config.id;
    make_private_dirs(cache);

    RepositoryStorage s;
    s.location = url;
    o.spool_dir = cache;
    s.objects = retrying(s3::open_s3_store(o), options);
    s.index_dir = cache + "/" + format::kIndexDir;
    s.locks = open_local_writer_lock(cache);
    s.index_is_cache = true;
    s.tree_cache_dir = cache + "/trees";
    if (options.chunk_cache_bytes) {
        s.chunk_cache_dir = cache + "/chunks";
        s.chunk_cache_bytes = options.chunk_cache_bytes;
    }
    s.pack_window_bytes = options.pack_window_bytes;
    s.config = std::make_shared<const RepoConfig>(std::move(config));
    return s;
}

RepositoryObjects s3_objects(const std::string& location, const StorageOptions& options) {
    s3::S3StoreOptions o = store_options(location, options);
    const std::string url = o.location.url();
    return {url, retrying(s3::open_s3_store(o), options)};
}

std::unique_ptr<ObjectStore> objects_for_init(const std::string& location) {
    if (!s3::is_s3_location(location)) return open_local_store(location);
    s3::S3StoreOptions o = store_options(location, storage_options());
    s3::create_bucket_if_missing(o);
    auto objects = retrying(s3::open_s3_store(o), storage_options());
    const std::string url = o.location.url();
    if (objects->exists(format::kConfigFile))
        throw_usage(url + " holds a strata repository already; use it, or choose another prefix");
    auto present = objects->list("");
    if (!present.empty())
        throw_usage(url + " is not empty (" + std::to_string(present.size()) + " objects, e.g. " +
                    present.front().name +
                    "); choose an empty bucket or another prefix for the repository");
    return objects;
}

}  // namespace strata
