#include "store/backend/s3/aws_credentials.h"

#include <gtest/gtest.h>

#include <map>

#include "store/base/errors.h"
#include "tests/testlib/temp_dir.h"

namespace strata::s3 {
namespace {

using Env = std::map<std::string, std::string>;

AwsCredentials load(const Env& env) {
    return load_aws_credentials([&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    });
}

TEST(AwsCredentials, EnvironmentFirstWithSessionTokenAndRegion) {
    auto c = load({{"AWS_ACCESS_KEY_ID", "AK"},
                   {"AWS_SECRET_ACCESS_KEY", "SK"},
                   {"AWS_SESSION_TOKEN", "TOK"},
                   {"AWS_DEFAULT_REGION", "eu-west-1"},
                   {"HOME", "/nonexistent"}});
    EXPECT_EQ(c.access_key_id, "AK");
    EXPECT_EQ(c.secret_access_key, "SK");
    EXPECT_EQ(c.session_token, "TOK");
    EXPECT_EQ(c.region, "eu-west-1");
    // AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS CLI.
    EXPECT_EQ(load({{"AWS_ACCESS_KEY_ID", "AK"},
                    {"AWS_SECRET_ACCESS_KEY", "SK"},
                    {"AWS_REGION", "ap-south-1"},
                    {"AWS_DEFAULT_REGION", "eu-west-1"}})
                  .region,
              "ap-south-1");
}

TEST(AwsCredentials, ProfileFromTheSharedFilesWithItsRegion) {
    testing::TempDir home;
    ::mkdir((home / ".aws").c_str(), 0700);
    testing::write_file(home / ".aws/credentials",
                        "[default]\naws_access_key_id = DEF\naws_secret_access_key = DEFS\n\n"
                        "[work]\n  aws_access_key_id=WK\naws_secret_access_key = WS\n"
                        "aws_session_token = WT\n");
    testing::write_file(home / ".aws/config",
                        "[default]\nregion = us-west-2\n[profile work]\nregion = eu-north-1\n");
    auto d = load({{"HOME", home.path()}});
    EXPECT_EQ(d.access_key_id, "DEF");
    EXPECT_EQ(d.secret_access_key, "DEFS");
    EXPECT_EQ(d.region, "us-west-2");
    EXPECT_NE(d.source.find(".aws/credentials [default]"), std::string::npos);
    auto w = load({{"HOME", home.path()}, {"AWS_PROFILE", "work"}});
    EXPECT_EQ(w.access_key_id, "WK");
    EXPECT_EQ(w.secret_access_key, "WS");
    EXPECT_EQ(w.session_token, "WT");
    EXPECT_EQ(w.region, "eu-north-1");
    // AWS_SHARED_CREDENTIALS_FILE moves the file; no config anywhere gives us-east-1.
    auto f = load(
        {{"AWS_SHARED_CREDENTIALS_FILE", home / ".aws/credentials"}, {"HOME", "/nonexistent"}});
    EXPECT_EQ(f.access_key_id, "DEF");
    EXPECT_EQ(f.region, "us-east-1");
}

TEST(AwsCredentials, ASystemdCredentialIsTheFileWhenNoneIsNamed) {
    testing::TempDir creds;
    testing::write_file(creds / "aws-credentials",
                        "[default]\naws_access_key_id = UNIT\naws_secret_access_key = US\n");
    auto c = load({{"CREDENTIALS_DIRECTORY", creds.path()}, {"HOME", "/nonexistent"}});
    EXPECT_EQ(c.access_key_id, "UNIT");
    EXPECT_EQ(c.source, creds / "aws-credentials" + " [default]");
    // A unit without that credential: the home directory's file, as before.
    testing::TempDir empty;
    EXPECT_THROW(load({{"CREDENTIALS_DIRECTORY", empty.path()}, {"HOME", "/nonexistent"}}),
                 StoreError);
}

TEST(AwsCredentials, MissingCredentialsSayWhereTheyWereLookedFor) {
    try {
        load({{"HOME", "/nonexistent"}, {"AWS_PROFILE", "backup"}});
        FAIL() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Usage);
        const std::string m = e.what();
        EXPECT_NE(m.find("AWS_ACCESS_KEY_ID"), std::string::npos) << m;
        EXPECT_NE(m.find("[backup]"), std::string::npos) << m;
        EXPECT_NE(m.find("/nonexistent/.aws/credentials"), std::string::npos) << m;
    }
    try {
        load({{"AWS_ACCESS_KEY_ID", "AK"}, {"HOME", "/nonexistent"}});
        FAIL() << "no error";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
    }
    testing::TempDir home;
    testing::write_file(home / "creds", "[default]\naws_access_key_id = X\n");
    try {
        load({{"AWS_SHARED_CREDENTIALS_FILE", home / "creds"}});
        FAIL() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Format);
        EXPECT_NE(std::string(e.what()).find("has no aws_secret_access_key"), std::string::npos);
    }
}

}  // namespace
}  // namespace strata::s3
