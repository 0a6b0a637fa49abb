// strata through a proxy that spoils requests (tests/s3/fault_proxy.py): 503 SlowDown answers and
// connections cut halfway through an answer. Every command still succeeds, after retries it
// reports, and what it stored reads back exactly.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests/e2e/e2e_support.h"
#include "tests/s3/s3_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

// The proxy as a child process, for the lifetime of the object.
class FaultProxy {
  public:
    FaultProxy(const std::string& fault, int every, const std::string& port_file) {
        const std::string upstream = ceph_endpoint().substr(ceph_endpoint().rfind(':') + 1);
        child_ = std::make_unique<ChildProcess>(std::vector<std::string>{
            "bash", "-c",
            "exec python3 '" + std::string(STRATA_SOURCE_DIR) + "/tests/s3/fault_proxy.py' " +
                upstream + " " + fault + " " + std::to_string(every) + " >'" + port_file + "'"});
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (port_.empty() && std::chrono::steady_clock::now() < deadline) {
            std::ifstream in(port_file);
            std::getline(in, port_);
            if (port_.empty()) std::this_thread::sleep_for(20ms);
        }
    }
    ~FaultProxy() { child_->kill(SIGTERM); }
    // The location of `bucket_and_prefix` through the proxy.
    std::string location(const std::string& bucket_and_prefix) const {
        return "s3:http://127.0.0.1:" + port_ + "/" + bucket_and_prefix;
    }
    bool up() const { return !port_.empty(); }

  private:
    std::unique_ptr<ChildProcess> child_;
    std::string port_;
};

struct S3Faults : ::testing::TestWithParam<const char*> {
    TempDir dir;
    std::string src = dir / "src";
    void SetUp() override {
        ceph_endpoint();
        make_every_kind_tree(src);
        write_random_file(src + "/big.bin", 20 << 20, 3);
    }
};

TEST_P(S3Faults, EveryCommandSucceedsThroughASpoilingProxy) {
    FaultProxy proxy(GetParam(), 6, dir / "port");
    ASSERT_TRUE(proxy.up()) << "the fault proxy did not start";
    const std::string repo = proxy.location(fresh_bucket() + "/faults");
    auto strata = [&](std::vector<std::string> args) {
        args.insert(args.begin() + 1, {"--cache-dir", dir / "cache"});
        return run_strata(args);
    };
    RunResult r = strata({"init", "--encryption", "none", repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"ingest", "--json", repo, src});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("trying again"), std::string::npos) << r.err;
    const std::string id = Json::parse(r.out)["id"].get<std::string>();
    // A fresh cache: built through the proxy too.
    r = run_strata({"restore", "--cache-dir", dir / "cache2", repo, id, dir / "restored"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "restored"), "");
    r = strata({"verify", "--read-data", repo});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Faults, S3Faults, ::testing::Values("503", "cut"),
                         [](const auto& info) { return std::string("fault_") + info.param; });

}  // namespace
}  // namespace strata::testing
