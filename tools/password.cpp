#include "tools/password.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "store/base/errors.h"

namespace strata::cli {
namespace {

[[noreturn]] void no_password(const std::string& what) {
    throw StoreError(StoreError::Kind::Password, what);
}

const char* env(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v && *v ? v : nullptr;
}

// The first line $SHELL-less /bin/sh prints for `command`; its exit status must be 0.
std::string password_from_command(const std::string& variable, const std::string& command) {
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) no_password(variable + ": cannot run it (" + std::strerror(errno) + ")");
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        no_password(variable + " (" + command + ") failed" +
                    (status != -1 && WIFEXITED(status)
                         ? " with exit status " + std::to_string(WEXITSTATUS(status))
                         : std::string()));
    out = out.substr(0, out.find('\n'));
    if (!out.empty() && out.back() == '\r') out.pop_back();
    if (out.empty()) no_password(variable + " (" + command + ") printed no password");
    return out;
}

// Reads one line from the terminal with echo off, after printing `prompt` on it.
std::string ask_terminal(const std::string& prompt) {
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) no_password("cannot open the terminal to ask for the password");
    termios old{};
    const bool restore = ::tcgetattr(fd, &old) == 0;
    if (restore) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)!::write(fd, prompt.data(), prompt.size());
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
    if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
    (void)!::write(fd, "\n", 1);
    ::close(fd);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

bool interactive() { return ::isatty(STDIN_FILENO) == 1; }

std::string where_looked(const PasswordPlace& p) {
    return p.option + " FILE, $" + p.env_prefix + "PASSWORD_FILE, $" + p.env_prefix +
           "PASSWORD_COMMAND or $" + p.env_prefix + "PASSWORD";
}

}  // namespace

std::string find_password(const PasswordPlace& place, const std::string& location) {
    if (!place.file.empty()) return read_password_file(place.file, place.option);
    const std::string prefix = place.env_prefix;
    if (const char* f = env(prefix + "PASSWORD_FILE"))
        return read_password_file(f, "$" + prefix + "PASSWORD_FILE");
    if (const char* c = env(prefix + "PASSWORD_COMMAND"))
        return password_from_command("$" + prefix + "PASSWORD_COMMAND", c);
    if (const char* p = env(prefix + "PASSWORD")) return p;
    // A systemd unit's LoadCredential=strata-password:FILE (docs/systemd.md).
    if (const char* d = env("CREDENTIALS_DIRECTORY"); d && prefix == "STRATA_") {
        const std::string file = std::string(d) + "/strata-password";
        if (::access(file.c_str(), F_OK) == 0)
            return read_password_file(file, "the systemd credential strata-password");
    }
    if (interactive()) {
        std::string pw = ask_terminal("password for " + location + ": ");
        if (pw.empty()) no_password("no password entered for " + location);
        return pw;
    }
    no_password("the repository " + location + " is encrypted and no password was given: pass " +
                where_looked(place) + " (or run on a terminal to be asked)");
}

PasswordSource password_source(PasswordPlace place) {
    struct Remembered {
        std::mutex mu;
        std::map<std::string, std::string> passwords;
    };
    auto remembered = std::make_shared<Remembered>();
    return [place = std::move(place), remembered](const std::string& location) {
        std::lock_guard lock(remembered->mu);
        auto it = remembered->passwords.find(location);
        if (it == remembered->passwords.end())
            it = remembered->passwords.emplace(location, find_password(place, location)).first;
        return it->second;
    };
}

std::string new_password(const std::string& file, const PasswordPlace* place,
                         const std::string& location) {
    if (!file.empty()) return read_password_file(file, "--new-password-file");
    if (place) {
        const bool given = !place->file.empty() || env(place->env_prefix + "PASSWORD_FILE") ||
                           env(place->env_prefix + "PASSWORD_COMMAND") ||
                           env(place->env_prefix + "PASSWORD");
        if (given) return find_password(*place, location);
    }
    if (!interactive() && place)
        no_password("the new repository " + location +
                    " is to be encrypted and no password was given: pass " + where_looked(*place) +
                    " (or run on a terminal to be asked), or --encryption none for a repository "
                    "stored in the clear");
    if (!interactive())
        no_password("no new password for " + location +
                    ": pass --new-password-file FILE (or run on a terminal to be asked)");
    std::string first = ask_terminal("new password for " + location + ": ");
    if (first.empty()) no_password("the new password is empty");
    if (ask_terminal("the same password again: ") != first)
        no_password("the two passwords differ; nothing was changed");
    return first;
}

}  // namespace strata::cli
