#include "fs/mount_options.h"

#include <cctype>
#include <limits>

#include "store/base/errors.h"

namespace strata::fs {

std::optional<std::size_t> parse_byte_size(std::string_view text) {
    std::size_t i = 0;
    unsigned long long value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        unsigned digit = static_cast<unsigned>(text[i] - '0');
        if (value > (std::numeric_limits<unsigned long long>::max() - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
        ++i;
    }
    if (i == 0) return std::nullopt;
    std::string unit;
    for (; i < text.size(); ++i)
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    int shift = 0;
    if (unit.empty() || unit == "b")
        shift = 0;
    else if (unit == "k" || unit == "kb" || unit == "kib")
        shift = 10;
    else if (unit == "m" || unit == "mb" || unit == "mib")
        shift = 20;
    else if (unit == "g" || unit == "gb" || unit == "gib")
        shift = 30;
    else if (unit == "t" || unit == "tb" || unit == "tib")
        shift = 40;
    else
        return std::nullopt;
    if (shift && value > (std::numeric_limits<std::size_t>::max() >> shift)) return std::nullopt;
    return static_cast<std::size_t>(value) << shift;
}

std::optional<unsigned> parse_seconds(std::string_view text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    unsigned long long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 0x7fffffffu) return std::nullopt;
    return static_cast<unsigned>(value);
}

namespace {

// The size after the first `key_length` characters of `opt` ("cache_size=..."); a usage error
// naming the option and showing `examples` if it is not one.
std::size_t size_value(std::string_view opt, std::size_t key_length, const char* examples) {
    auto size = parse_byte_size(opt.substr(key_length));
    if (!size)
        throw_usage(std::string(opt.substr(0, key_length - 1)) + ": \"" +
                    std::string(opt.substr(key_length)) +
                    "\" is not a size (examples: " + examples + ")");
    return *size;
}

// The value of `opt` if it is `key` followed by one (key ends with '='); an empty value is a
// usage error.
std::optional<std::string> value_of(std::string_view opt, std::string_view key) {
    if (opt.substr(0, key.size()) != key) return std::nullopt;
    if (opt.size() == key.size())
        throw_usage("mount option " + std::string(key) + " needs a value (" + std::string(key) +
                    "PATH)");
    return std::string(opt.substr(key.size()));
}

}  // namespace

void apply_option_list(std::string_view list, MountOptions& options) {
    // "rw" is among them because mount(8) passes it for fstab's "defaults"; the mount stays
    // read-only whatever it is asked.
    static constexpr std::string_view kHarmless[] = {
        "ro",     "rw",      "nosuid",   "nodev",    "noatime",
        "noexec", "auto",    "noauto",   "user",     "users",
        "nofail", "_netdev", "defaults", "relatime", "default_permissions"};
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        std::string_view opt = list.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
        if (opt.empty()) continue;
        if (opt == "allow_other") {
            options.allow_other = true;
        } else if (opt == "debug") {
            options.debug = true;
        } else if (opt.substr(0, 11) == "cache_size=") {
            options.cache_bytes = size_value(opt, 11, "256M, 1G, 1048576");
        } else if (opt.substr(0, 16) == "disk_cache_size=") {
            options.disk_cache_bytes = size_value(opt, 16, "2G, 512M, 0 for none");
        } else if (opt.substr(0, 8) == "refresh=") {
            auto seconds = parse_seconds(opt.substr(8));
            if (!seconds)
                throw_usage("refresh: \"" + std::string(opt.substr(8)) +
                            "\" is not a number of seconds (examples: 60, 300, 0 for never)");
            options.refresh_seconds = *seconds;
        } else if (auto v = value_of(opt, "cache_dir=")) {
            options.cache_dir = *v;
        } else if (auto v2 = value_of(opt, "cacert=")) {
            options.ca_file = *v2;
        } else if (auto v3 = value_of(opt, "credentials_file=")) {
            options.credentials_file = *v3;
        } else if (auto v5 = value_of(opt, "password_file=")) {
            options.password_file = *v5;
        } else if (auto v4 = value_of(opt, "profile=")) {
            options.aws_profile = *v4;
        } else if (opt == "s3_virtual_host") {
            options.s3_virtual_host = true;
        } else if (opt.substr(0, 2) == "x-" || opt.substr(0, 8) == "comment=") {
            // for mount(8) and systemd, not for us
        } else {
            bool known = false;
            for (auto h : kHarmless) known = known || opt == h;
            if (!known)
                throw_usage("unknown mount option \"" + std::string(opt) +
                            "\" (known: allow_other, cache_size=SIZE, debug, ro, cache_dir=DIR, "
                            "disk_cache_size=SIZE, refresh=SECONDS, cacert=FILE, "
                            "credentials_file=FILE, profile=NAME, password_file=FILE, "
                            "s3_virtual_host)");
        }
    }
}

}  // namespace strata::fs
