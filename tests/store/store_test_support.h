// Shared by the store unit tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "store/base/bytes.h"
#include "store/base/errors.h"

namespace strata {

inline const char* kind_name(StoreError::Kind k) {
    switch (k) {
        case StoreError::Kind::NotFound:
            return "NotFound";
        case StoreError::Kind::Corruption:
            return "Corruption";
        case StoreError::Kind::Io:
            return "Io";
        case StoreError::Kind::Usage:
            return "Usage";
        case StoreError::Kind::Locked:
            return "Locked";
        case StoreError::Kind::Format:
            return "Format";
        case StoreError::Kind::Password:
            return "Password";
    }
    return "?";
}

// Runs `f` and checks it throws a StoreError of `kind` (not another exception, not nothing).
// Returns the message, for further checks.
inline std::string expect_store_error(const std::function<void()>& f, StoreError::Kind kind,
                                      const std::string& context = "") {
    try {
        f();
    } catch (const StoreError& e) {
        EXPECT_EQ(kind_name(e.kind()), std::string(kind_name(kind))) << context << ": " << e.what();
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << context << ": expected StoreError " << kind_name(kind) << ", got "
                      << typeid(e).name() << ": " << e.what();
        return "";
    }
    ADD_FAILURE() << context << ": expected StoreError " << kind_name(kind)
                  << ", nothing was thrown";
    return "";
}

inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace strata
