// Shared by the S3 tests: the Ceph cluster that tests/ceph/cluster.sh started (CTest fixture
// "ceph"), its endpoint and keys put into this process's environment so that strata children
// inherit them, and a fresh bucket per test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>

namespace strata::testing {

// Reads ${STRATA_CEPH_DIR}/env (KEY=value lines) into the environment, once; returns the
// endpoint (http://127.0.0.1:PORT). Fails the test when the cluster was not started: the
// fixture test CephCluster.Start must have run (ctest does that; by hand:
// `bash tests/ceph/cluster.sh start build/tests/ceph`).
inline std::string ceph_endpoint() {
    static const std::string endpoint = [] {
        std::ifstream in(std::string(STRATA_CEPH_DIR) + "/env");
        std::string line, ep;
        while (std::getline(in, line)) {
            auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            std::string k = line.substr(0, eq), v = line.substr(eq + 1);
            if (k == "STRATA_TEST_S3_ENDPOINT") ep = v;
            ::setenv(k.c_str(), v.c_str(), 1);
        }
        // Keys from elsewhere would confuse the tests of credential lookup.
        ::unsetenv("AWS_PROFILE");
        ::unsetenv("AWS_SESSION_TOKEN");
        return ep;
    }();
    return endpoint;
}

// A bucket name no other test uses: strata-t<pid>-<n>.
inline std::string fresh_bucket() {
    static std::atomic<int> n{0};
    return "strata-t" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// s3:http://127.0.0.1:PORT/<fresh bucket>/<prefix>; asserts the cluster is there.
inline std::string fresh_s3_location(const std::string& prefix = "repo") {
    const std::string ep = ceph_endpoint();
    EXPECT_FALSE(ep.empty()) << "no Ceph cluster: " << STRATA_CEPH_DIR
                             << "/env is missing (CephCluster.Start did not run or failed)";
    return "s3:" + ep + "/" + fresh_bucket() + (prefix.empty() ? "" : "/" + prefix);
}

}  // namespace strata::testing
