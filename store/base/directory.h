// Small questions about local directories that several layers ask.
#pragma once

#include <optional>
#include <string>

namespace strata {

// Whether the directory `path` holds no entry but "." and ".."; nullopt if it cannot be opened
// (errno says why).
std::optional<bool> directory_is_empty(const std::string& path);

// Removes `path` and, if it is a directory, everything below it, without following symlinks;
// directories are made writable by their owner first, so a tree restored with read-only
// directories goes too. Absent: nothing to do. Throws Io naming the entry that could not go.
void remove_tree(const std::string& path);

}  // namespace strata
