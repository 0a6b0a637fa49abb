// Where a command finds the password of an encrypted repository (docs/cli.md, "Passwords"), in
// this order: --password-file FILE, $STRATA_PASSWORD_FILE, $STRATA_PASSWORD_COMMAND (run by
// /bin/sh; its first line of output), $STRATA_PASSWORD (visible to other processes of the same
// user, so the last resort), the systemd credential strata-password (a unit's
// LoadCredential=strata-password:FILE), and a prompt on the terminal when standard input is
// one. `copy`
// reads its source repository's password the same way from --from-password-file and the
// STRATA_FROM_PASSWORD_* variables.
#pragma once

#include <string>

#include "store/repo/repo_keys.h"

namespace strata::cli {

struct PasswordPlace {
    std::string file;  // the command line's --password-file (or --from-...)
    std::string option = "--password-file";
    std::string env_prefix = "STRATA_";  // STRATA_PASSWORD_FILE, ..._COMMAND, STRATA_PASSWORD
};

// The password from the first of `place`'s sources that is set, for the repository `location`.
// Throws StoreError (Password) when none is, saying where it looked, or when a source fails
// (an unreadable file, a command that fails or prints nothing).
std::string find_password(const PasswordPlace& place, const std::string& location);

// A source that asks find_password once per repository and remembers the answer, for the
// storage options (a command may open a repository more than once).
PasswordSource password_source(PasswordPlace place);

// The password for a new key (`strata init`, `key add`, `key passwd`): from `file` when given
// (--new-password-file), else, for init, from the usual sources (`place`; null: none), else asked
// twice on the terminal. Throws Password when there is no terminal to ask on.
std::string new_password(const std::string& file, const PasswordPlace* place,
                         const std::string& location);

}  // namespace strata::cli
