// An ObjectStore in an S3 bucket (AWS S3, Ceph RGW, MinIO, ...): every object is one S3 object
// under the location's prefix, named as in a local repository ("packs/ab/ab12….pack").
//
// What S3 gives and this store relies on: a PUT is atomic (readers see the old object or the new
// one, never part of one) and durable once answered; GET takes byte ranges; ListObjectsV2 lists
// keys with sizes and times in pages. Nothing is renamed or appended to. Pieces written through
// create() are spooled to an unlinked local file and sent by one PUT at commit, so memory stays
// flat and an interrupted upload leaves no object behind.
#pragma once

#include <memory>
#include <string>

#include "store/backend/object_store.h"
#include "store/backend/s3/aws_credentials.h"
#include "store/backend/s3/s3_location.h"

namespace strata::s3 {

struct S3StoreOptions {
    S3Location location;
    AwsCredentials credentials;
    std::string ca_file;    // "" for the system's certificate store
    std::string spool_dir;  // where create() spools an object before sending it (TMPDIR)
};

// Errors: NotFound for an absent object (and an absent bucket, saying so); Io with EACCES when the
// store refuses the credentials or the request (its code and message quoted); Io with EAGAIN for
// answers worth retrying (500, 502, 503, 504, 429 SlowDown); Io with the transport's errno when the
// store cannot be reached (http_client.h). No retries here: open_retrying_store wraps this.
std::unique_ptr<ObjectStore> open_s3_store(S3StoreOptions options);

// Creates the bucket of `options.location` unless it exists already (and is this user's).
// For `strata init`. Throws as above.
void create_bucket_if_missing(const S3StoreOptions& options);

}  // namespace strata::s3
