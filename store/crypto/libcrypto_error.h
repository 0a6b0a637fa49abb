// Private to store/crypto/: a libcrypto call that should not fail did (out of memory, a broken
// provider). Not a StoreError: nothing about the repository is wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace strata::crypto {

[[noreturn]] inline void libcrypto_failed(const std::string& what) {
    throw std::runtime_error(what + " failed (libcrypto)");
}

}  // namespace strata::crypto
