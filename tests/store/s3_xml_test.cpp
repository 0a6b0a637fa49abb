#include "store/backend/s3/s3_xml.h"

#include <gtest/gtest.h>

#include "store/base/errors.h"

namespace strata::s3 {
namespace {

TEST(S3Xml, ListPageWithContinuation) {
    const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>backups</Name><Prefix>alice/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>alice/config</Key><LastModified>2026-11-21T10:00:00.000Z</LastModified>
    <ETag>&quot;abc&quot;</ETag><Size>183</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>alice/packs/a&amp;b.pack</Key><LastModified>2026-11-21T10:00:01.000Z</LastModified>
    <Size>16777216</Size></Contents>
</ListBucketResult>)";
    ListPage p = parse_list_page(xml);
    ASSERT_EQ(p.objects.size(), 2u);
    EXPECT_EQ(p.objects[0].key, "alice/config");
    EXPECT_EQ(p.objects[0].size, 183u);
    EXPECT_EQ(p.objects[0].mtime, 1795255200);
    EXPECT_EQ(p.objects[1].key, "alice/packs/a&b.pack");
    EXPECT_EQ(p.objects[1].size, 16777216u);
    EXPECT_TRUE(p.truncated);
    EXPECT_EQ(p.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, EmptyLastPage) {
    ListPage p = parse_list_page(
        "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
        "</ListBucketResult>");
    EXPECT_TRUE(p.objects.empty());
    EXPECT_FALSE(p.truncated);
}

TEST(S3Xml, MalformedListingsAreCorruption) {
    for (const char* bad :
         {"<ListBucketResult><Contents><Key>k</Key>", "not xml at all",
          "<ListBucketResult><Contents><Key>k</Key><Size>x1</Size></Contents></ListBucketResult>",
          "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"}) {
        try {
            parse_list_page(bad);
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << bad;
            EXPECT_NE(std::string(e.what()).find("malformed listing"), std::string::npos);
        }
    }
}

TEST(S3Xml, ErrorBody) {
    auto e = parse_error_body(
        "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket "
        "does not exist</Message><BucketName>b</BucketName></Error>");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "NoSuchBucket");
    EXPECT_EQ(e->message, "The specified bucket does not exist");
    EXPECT_FALSE(parse_error_body(""));
    EXPECT_FALSE(parse_error_body("<html><body>502 Bad Gateway</body></html>"));
}

}  // namespace
}  // namespace strata::s3
