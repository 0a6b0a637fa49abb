// mount.strata: the helper mount(8) runs for `mount -t strata` and fstab entries of type strata
// (mount-helpers/helper_call.h has the convention). A program of its own rather than a script
// around `strata mount`: it links only the read side of the store and the mount (it cannot write
// a repository), needs no PATH to find `strata`, and shares its option handling with the
// `strata SOURCE MOUNTPOINT` form mount.fuse3 uses.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "mount-helpers/helper_call.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        return strata::mount_helper::run_helper_call(args, "mount.strata", std::cout, std::cerr);
    } catch (...) {
        std::cerr << "mount.strata: unexpected internal error\n";
        return strata::mount_helper::kMountInternal;
    }
}
