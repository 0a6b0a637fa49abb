// The SigV4 signer against the worked examples AWS publishes for S3 ("Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk"): same key, same request,
// same signature, byte for byte.
#include <gtest/gtest.h>

#include "store/backend/s3/sigv4.h"

namespace strata::s3 {
namespace {

const SigningKey kExampleKey{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                             "us-east-1", "s3"};

TEST(SigV4, GetObjectWithRangeMatchesAwsExample) {
    RequestToSign r{"GET",
                    "/test.txt",
                    {},
                    {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", kEmptyPayloadSha256},
                     {"x-amz-date", "20130524T000000Z"}},
                    kEmptyPayloadSha256};
    EXPECT_EQ(canonical_request(r),
              "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
              "x-amz-content-sha256:"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
              "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(string_to_sign(r, kExampleKey, "20130524T000000Z"),
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(authorization(r, kExampleKey, "20130524T000000Z"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, ListObjectsQueryIsSortedAndEncoded) {
    // AWS's GET Bucket example: the query in canonical form, whatever order it was given in.
    RequestToSign r{"GET",
                    "/",
                    {{"prefix", "J"}, {"max-keys", "2"}},
                    {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"x-amz-content-sha256", kEmptyPayloadSha256},
                     {"x-amz-date", "20130524T000000Z"}},
                    kEmptyPayloadSha256};
    EXPECT_EQ(canonical_query(r.query), "max-keys=2&prefix=J");
    EXPECT_EQ(authorization(r, kExampleKey, "20130524T000000Z"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
              "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, EncodesKeysAsS3SignsThem) {
    EXPECT_EQ(uri_encode("packs/ab/x y+z=$.pack", true), "packs/ab/x%20y%2Bz%3D%24.pack");
    EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
    EXPECT_EQ(uri_encode("~-_.AZaz09", false), "~-_.AZaz09");
    EXPECT_EQ(uri_encode("\xc3\xa9", true), "%C3%A9");
    // A continuation token holds '=' and '/', which curl 7.88's own signer got wrong.
    EXPECT_EQ(canonical_query({{"continuation-token", "1a/b=="}, {"list-type", "2"}}),
              "continuation-token=1a%2Fb%3D%3D&list-type=2");
}

TEST(SigV4, HeaderValuesAreTrimmedAndNamesLowerCased) {
    RequestToSign r{"PUT",
                    "/b/k",
                    {},
                    {{"X-Amz-Meta-Note", "  two   spaces  "}, {"HOST", "h:7480"}},
                    "UNSIGNED-PAYLOAD"};
    EXPECT_EQ(canonical_request(r),
              "PUT\n/b/k\n\nhost:h:7480\nx-amz-meta-note:two spaces\n\nhost;x-amz-meta-note\n"
              "UNSIGNED-PAYLOAD");
}

}  // namespace
}  // namespace strata::s3
