// Where the mount reports what went wrong (a damaged blob, a failed refresh): standard error while
// it runs in the foreground or before it is ready, syslog (facility daemon) once it runs in the
// background. Thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

namespace strata::fs {

class MountLog {
  public:
    // Switches to syslog; for a daemon whose standard error is about to go away.
    void use_syslog();
    void error(const std::string& message);
    void info(const std::string& message);

  private:
    void write(int priority, const std::string& message);
    std::atomic<bool> syslog_{false};
    std::mutex mu_;
};

}  // namespace strata::fs
