// This machine's name, as recorded in locks, snapshot records and deletion records.
#pragma once

#include <string>

namespace strata {

// gethostname(2); "" if the system will not tell.
std::string host_name();

}  // namespace strata
