// Replacing an index directory by a freshly built one (`strata repair-index`).
#pragma once

#include <functional>
#include <string>

#include "store/index/index.h"

namespace strata {

// Builds a new index in a directory beside `dir` (<dir>.new, created empty) by calling `fill`,
// then puts it in place of `dir`: the old one is moved to <dir>.old, the new one renamed to
// `dir`, the old one removed. If `fill` throws, `dir` is left as it was. Nothing may have `dir`
// open meanwhile (LMDB forbids two environments on one file in a process). The new index keeps
// snapshot records as `records` seals them (BlobIndex).
void replace_index_dir(const std::string& dir, const std::function<void(BlobIndex&)>& fill,
                       const BlobCodec* records = nullptr);

}  // namespace strata
