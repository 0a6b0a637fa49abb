// Error kinds raised by the store. Every operation that fails throws a StoreError whose kind tells
// the caller how to react (the FUSE layer maps kinds to errno, the CLI to exit codes and messages).
#pragma once

#include <stdexcept>
#include <string>

namespace strata {

class StoreError : public std::runtime_error {
  public:
    enum class Kind {
        NotFound,    // a named snapshot, path or blob does not exist
        Corruption,  // repository data failed a check (hash, magic, bounds): never trust it
        Io,          // the operating system refused (errno is kept)
        Usage,       // the request itself is wrong (ambiguous id, bad argument)
        Locked,      // another writer holds the repository
        Format,      // the repository is of a format this build does not understand
        Password,    // an encrypted repository's password is missing or opens none of its keys
    };

    StoreError(Kind kind, const std::string& what, int err = 0)
        : std::runtime_error(what), kind_(kind), errno_(err) {}

    Kind kind() const noexcept { return kind_; }
    // The errno behind an Io error (0 for other kinds).
    int error_number() const noexcept { return errno_; }

  private:
    Kind kind_;
    int errno_;
};

[[noreturn]] inline void throw_corruption(const std::string& what) {
    throw StoreError(StoreError::Kind::Corruption, what);
}
[[noreturn]] inline void throw_not_found(const std::string& what) {
    throw StoreError(StoreError::Kind::NotFound, what);
}
[[noreturn]] inline void throw_usage(const std::string& what) {
    throw StoreError(StoreError::Kind::Usage, what);
}
// Throws an Io error for `err` (an errno value) with "<what>: <strerror>".
[[noreturn]] void throw_io(const std::string& what, int err);

}  // namespace strata
