// Small questions about local directories that several layers ask.
#pragma once

#include <optional>
#include <string>

namespace strata {

// Whether the directory `path` holds no entry but "." and ".."; nullopt if it cannot be opened
// (errno says why).
std::optional<bool> directory_is_empty(const std::string& path);

}  // namespace strata
