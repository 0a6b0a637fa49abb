#include "store/backend/s3/aws_credentials.h"

#include <cstdlib>
#include <fstream>
#include <map>

#include "store/base/errors.h"

namespace strata::s3 {
namespace {

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// The keys of section `section` of an INI file (the AWS files' format); nullopt when the file or
// the section is absent.
std::optional<std::map<std::string, std::string>> ini_section(const std::string& path,
                                                              const std::string& section) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::optional<std::map<std::string, std::string>> found;
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[' && line.back() == ']') {
            inside = trim(line.substr(1, line.size() - 2)) == section;
            if (inside && !found) found.emplace();
            continue;
        }
        auto eq = line.find('=');
        if (inside && eq != std::string::npos)
            (*found)[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return found;
}

}  // namespace

AwsCredentials load_aws_credentials(const Getenv& getenv_fn) {
    Getenv env = getenv_fn ? getenv_fn : [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v || !*v) return std::nullopt;
        return std::string(v);
    };
    const std::string home = env("HOME").value_or("");
    const std::string profile = env("AWS_PROFILE").value_or("default");
    std::string credentials_file = home + "/.aws/credentials";
    if (auto f = env("AWS_SHARED_CREDENTIALS_FILE")) {
        credentials_file = *f;
    } else if (auto dir = env("CREDENTIALS_DIRECTORY")) {
        // A systemd unit's LoadCredential=aws-credentials:FILE.
        const std::string unit_file = *dir + "/aws-credentials";
        if (std::ifstream(unit_file)) credentials_file = unit_file;
    }
    const std::string config_file = env("AWS_CONFIG_FILE").value_or(home + "/.aws/config");

    AwsCredentials c;
    auto id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
        c.access_key_id = *id;
        c.secret_access_key = *secret;
        c.session_token = env("AWS_SESSION_TOKEN").value_or("");
        c.source = "the environment (AWS_ACCESS_KEY_ID)";
    } else if (id || secret) {
        throw_usage(std::string("S3 credentials: ") +
                    (id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                        : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") +
                    "; set both, or neither to use the credentials file");
    } else {
        auto keys = ini_section(credentials_file, profile);
        if (!keys)
            throw_usage(
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                "put a [" +
                profile + "] profile in " + credentials_file +
                " (AWS_PROFILE picks the profile, AWS_SHARED_CREDENTIALS_FILE the file)");
        auto get = [&](const char* key) {
            auto it = keys->find(key);
            if (it == keys->end() || it->second.empty())
                throw StoreError(StoreError::Kind::Format, "S3 credentials file " +
                                                               credentials_file + ": profile [" +
                                                               profile + "] has no " + key);
            return it->second;
        };
        c.access_key_id = get("aws_access_key_id");
        c.secret_access_key = get("aws_secret_access_key");
        if (auto it = keys->find("aws_session_token"); it != keys->end())
            c.session_token = it->second;
        c.source = credentials_file + " [" + profile + "]";
    }

    if (auto r = env("AWS_REGION")) {
        c.region = *r;
    } else if (auto r2 = env("AWS_DEFAULT_REGION")) {
        c.region = *r2;
    } else {
        // The config file names profiles "[profile NAME]", except the default one.
        auto keys = ini_section(config_file, profile == "default" ? profile : "profile " + profile);
        if (keys && keys->count("region")) c.region = keys->at("region");
    }
    if (c.region.empty()) c.region = "us-east-1";
    return c;
}

}  // namespace strata::s3
