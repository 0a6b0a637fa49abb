// A directory under $TMPDIR (default /tmp) removed with everything in it when the test ends.
#pragma once

#include <string>
#include <vector>

namespace strata::testing {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Writes `content` to `path` (creating or truncating it).
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
// Removes a tree that may hold paths longer than PATH_MAX and read-only directories.
void remove_tree(const std::string& path);
// The names in the directory `path` but "." and "..", sorted; empty if it cannot be listed.
std::vector<std::string> list_dir(const std::string& path);

}  // namespace strata::testing
