// Where the suites shared by both backends keep their repositories. The round-trip, crash, mount
// and maintenance suites are compiled twice: into their own binary, where a repository is a local
// folder, and into s3_tests with STRATA_TEST_ON_S3=1, where it is a fresh bucket of the test Ceph
// cluster (CTest names those tests S3/<Suite>.<Test>). What only a local repository has (files to
// truncate, an LMDB index in the repository) is tested by the local build alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/format/format.h"
#include "store/repo/storage.h"
#include "tests/testlib/temp_dir.h"

#ifndef STRATA_TEST_ON_S3
#define STRATA_TEST_ON_S3 0
#endif

#if STRATA_TEST_ON_S3
#include <stdlib.h>

#include "tests/s3/s3_support.h"
#endif

namespace strata::testing {

inline constexpr bool kRepositoriesOnS3 = STRATA_TEST_ON_S3;

// A location for a new repository: `dir/name`, or on S3 s3:ENDPOINT/<fresh bucket>/name. On S3 the
// hosts' caches go to a folder of this test process ($XDG_CACHE_HOME, inherited by every strata it
// starts), so that no test reads another's and nothing is left in root's home.
inline std::string new_repository_location(const TempDir& dir, const std::string& name) {
#if STRATA_TEST_ON_S3
    static TempDir caches;  // removed when the process ends
    static const bool set = ::setenv("XDG_CACHE_HOME", caches.path().c_str(), 1) == 0;
    (void)set;
    (void)dir;
    return fresh_s3_location(name);
#else
    return dir / name;
#endif
}

// The objects of the repository at `location`, as the store reads them: for the tests that
// damage, remove or put back packs on either backend.
inline std::unique_ptr<ObjectStore> repository_objects(const std::string& location) {
    return open_storage(location).objects;
}

// The names of the repository's pack objects ("packs/ab/ab12….pack"), sorted.
inline std::vector<std::string> pack_object_names(const std::string& location) {
    std::vector<std::string> names;
    for (const auto& o : repository_objects(location)->list(format::kPackDir))
        names.push_back(o.name);
    return names;
}

}  // namespace strata::testing
