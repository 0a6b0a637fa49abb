#include "fs/mount_log.h"

#include <syslog.h>

#include <cstdio>

namespace strata::fs {

void MountLog::use_syslog() {
    ::openlog("strata-mount", LOG_PID, LOG_DAEMON);
    syslog_ = true;
}

void MountLog::error(const std::string& message) { write(LOG_ERR, message); }
void MountLog::info(const std::string& message) { write(LOG_INFO, message); }

void MountLog::write(int priority, const std::string& message) {
    if (syslog_) {
        ::syslog(priority, "%s", message.c_str());
        return;
    }
    std::lock_guard lock(mu_);
    std::fprintf(stderr, "strata mount: %s\n", message.c_str());
    std::fflush(stderr);
}

}  // namespace strata::fs
