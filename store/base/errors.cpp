#include "store/base/errors.h"

#include <cstring>

namespace strata {

void throw_io(const std::string& what, int err) {
    throw StoreError(StoreError::Kind::Io, what + ": " + std::strerror(err), err);
}

}  // namespace strata
