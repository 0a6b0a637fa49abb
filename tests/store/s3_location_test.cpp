#include "store/backend/s3/s3_location.h"

#include <gtest/gtest.h>

#include "store/base/errors.h"

namespace strata::s3 {
namespace {

std::string usage_error(const std::string& location) {
    try {
        parse_s3_location(location);
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Usage);
        return e.what();
    }
    ADD_FAILURE() << location << " was accepted";
    return "";
}

TEST(S3Location, PathStyleWithPortBucketAndPrefix) {
    S3Location l = parse_s3_location("s3:http://127.0.0.1:7480/backups/alice/laptop/");
    EXPECT_FALSE(l.https);
    EXPECT_EQ(l.host, "127.0.0.1");
    EXPECT_EQ(l.port, 7480);
    EXPECT_EQ(l.bucket, "backups");
    EXPECT_EQ(l.prefix, "alice/laptop");
    EXPECT_EQ(l.url(), "s3:http://127.0.0.1:7480/backups/alice/laptop");
    EXPECT_EQ(l.endpoint(), "http://127.0.0.1:7480");
    EXPECT_EQ(l.host_header(), "127.0.0.1:7480");
    EXPECT_EQ(l.object_path("packs/ab/c d.pack"), "/backups/alice/laptop/packs/ab/c%20d.pack");
    EXPECT_EQ(l.bucket_path(), "/backups");
    EXPECT_EQ(l.key_of("config"), "alice/laptop/config");
}

TEST(S3Location, HttpsDefaultPortNoPrefix) {
    S3Location l = parse_s3_location("s3:https://s3.example.net/backups");
    EXPECT_TRUE(l.https);
    EXPECT_EQ(l.port, 0);
    EXPECT_EQ(l.prefix, "");
    EXPECT_EQ(l.host_header(), "s3.example.net");
    EXPECT_EQ(l.key_of("config"), "config");
    EXPECT_EQ(l.object_path("config"), "/backups/config");
}

TEST(S3Location, VirtualHostedStylePutsTheBucketInTheHost) {
    S3Location l = parse_s3_location("s3:https://s3.example.net/backups/alice", true);
    EXPECT_EQ(l.host_header(), "backups.s3.example.net");
    EXPECT_EQ(l.endpoint(), "https://backups.s3.example.net");
    EXPECT_EQ(l.object_path("config"), "/alice/config");
    EXPECT_EQ(l.bucket_path(), "/");
}

TEST(S3Location, Ipv6Host) {
    S3Location l = parse_s3_location("s3:http://[::1]:9000/bkt");
    EXPECT_EQ(l.host, "[::1]");
    EXPECT_EQ(l.port, 9000);
    EXPECT_EQ(l.host_header(), "[::1]:9000");
}

TEST(S3Location, BadLocationsSayWhatIsWrongAndTheFormExpected) {
    EXPECT_NE(usage_error("s3:backups").find("no http:// or https://"), std::string::npos);
    EXPECT_NE(usage_error("s3:http:///bkt").find("no host"), std::string::npos);
    EXPECT_NE(usage_error("s3:http://h:99999/bkt").find("port"), std::string::npos);
    EXPECT_NE(usage_error("s3:http://h:/bkt").find("port"), std::string::npos);
    EXPECT_NE(usage_error("s3:http://h").find("no bucket"), std::string::npos);
    EXPECT_NE(usage_error("s3:http://h/ab").find("not a valid bucket name"), std::string::npos);
    EXPECT_NE(usage_error("s3:http://h/Backups").find("not a valid bucket name"),
              std::string::npos);
    EXPECT_NE(usage_error("s3:http://key:secret@h/bkt").find("credentials do not belong"),
              std::string::npos);
    EXPECT_NE(usage_error("s3:http://h/bkt/a//b").find("//"), std::string::npos);
    EXPECT_NE(usage_error("s3:backups").find("s3:http[s]://host[:port]/bucket[/prefix]"),
              std::string::npos);
    EXPECT_TRUE(is_s3_location("s3:http://h/bkt"));
    EXPECT_FALSE(is_s3_location("/srv/s3:backup"));
}

}  // namespace
}  // namespace strata::s3
