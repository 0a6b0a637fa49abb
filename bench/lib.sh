# Shared by the benchmark scripts (sourced, never run): messages, installing what a benchmark needs
# the way a fresh Debian 12 machine would (as root, with apt-get), building strata, and dropping
# the page cache. The sourcing script sets BENCH_NAME (its messages' prefix), TOP (the checkout),
# TOOLS and STRATA first.

say() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

APT_UPDATED=0
install_pkg() {  # install_pkg PACKAGE WHY
    [ "$(id -u)" = 0 ] || die "$2 is missing; install the Debian package '$1' (needs root)"
    if [ $APT_UPDATED = 0 ]; then apt-get update -q >&2; APT_UPDATED=1; fi
    say "installing $1 ($2 is missing)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >&2
}
need() { command -v "$1" >/dev/null 2>&1 || install_pkg "$2" "$1"; }  # need COMMAND PACKAGE

# The packages of the tools named in TOOLS; with --fuse also what their mounts need.
need_tools() {
    for t in $TOOLS; do
        case "$t" in
            restic) need restic restic ;;
            borg)
                need borg borgbackup
                if [ "${1:-}" = --fuse ]; then
                    # borg mount needs a FUSE binding for the Python borg runs under.
                    dpkg -s python3-llfuse >/dev/null 2>&1 ||
                        install_pkg python3-llfuse "borg's FUSE binding (python3-llfuse)"
                fi
                ;;
            strata) ;;
            *) die "unknown tool '$t' (strata, restic, borg)" ;;
        esac
    done
}

# A Release build of this checkout's strata into BUILD_DIR, when TOOLS has strata and STRATA is
# not an executable yet.
build_strata() {  # build_strata BUILD_DIR
    if [[ " $TOOLS " == *" strata "* ]] && [ ! -x "$STRATA" ]; then
        command -v cmake >/dev/null ||
            die "$STRATA is missing and cmake is not installed: run the install command from README.md first"
        say "building strata (Release) into $1"
        cmake -S "$TOP" -B "$1" -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_TESTS=OFF >&2
        cmake --build "$1" -j2 --target strata >&2
    fi
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
