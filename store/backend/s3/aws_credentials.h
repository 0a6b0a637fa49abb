// S3 credentials and region, found where every S3 tool looks (the AWS CLI's order):
//   1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment;
//   2. the profile AWS_PROFILE (else "default") of the shared credentials file,
//      AWS_SHARED_CREDENTIALS_FILE, else $CREDENTIALS_DIRECTORY/aws-credentials when a systemd
//      unit loaded one (LoadCredential=aws-credentials:FILE), else ~/.aws/credentials;
// and the region from AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config file
// (AWS_CONFIG_FILE, else ~/.aws/config), else us-east-1 (what Ceph RGW and MinIO accept).
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace strata::s3 {

struct AwsCredentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // "" unless temporary credentials
    std::string region;
    std::string source;  // where they came from, for messages ("the environment", a file)
};

// Looks the variables up through `getenv` (the process environment by default; tests pass
// their own). Throws Usage when no credentials are found, saying where they were looked for;
// Format for a credentials file that names the profile but lacks a key.
using Getenv = std::function<std::optional<std::string>(const std::string& name)>;
AwsCredentials load_aws_credentials(const Getenv& getenv = {});

}  // namespace strata::s3
