# What makes strata a citizen of the system it is installed on, included once from the top-level
# CMakeLists.txt: the mount(8) helper, the install rules, and the Debian package.
#
# `cmake --install BUILD [--prefix P]` (and DESTDIR=...) puts:
#   P/bin/strata                                      (tools/CMakeLists.txt)
#   /sbin/mount.strata when P is /usr, else P/sbin    mount(8) looks in /sbin only
#   P/lib/systemd/system/strata-mount@.service, strata-ingest@.service, strata-ingest@.timer
#   P/libexec/strata/strata-ingest-job                what strata-ingest@.service runs
#   P/share/man/man1/strata.1.gz, man8/mount.strata.8.gz
#   P/share/bash-completion/completions/strata
#   P/share/doc/strata/   README.md, docs/*.md, examples/ (fstab, .mount/.automount, ingest conf)
# Files that name other installed files (units, the job, man pages) are written at install time
# (cmake/InstallSystemFiles.cmake), so they name where things really went even when the prefix
# is chosen with --prefix after configuring.
#
# `cpack -G DEB` (from BUILD) makes strata_VERSION_ARCH.deb installing under /usr.
include(GNUInstallDirs)

add_subdirectory(mount-helpers)

set(STRATA_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd system unit directory (relative: under the install prefix)")
set(STRATA_MOUNT_HELPER_DIR "" CACHE STRING
    "directory for mount.strata; empty: /sbin when the install prefix is /usr, else PREFIX/sbin")

install(CODE "
  set(STRATA_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(STRATA_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
  set(STRATA_VERSION \"${PROJECT_VERSION}\")
  set(STRATA_MOUNT_HELPER_FILE \"$<TARGET_FILE:mount_strata>\")
  set(STRATA_SYSTEMD_UNIT_DIR \"${STRATA_SYSTEMD_UNIT_DIR}\")
  set(STRATA_MOUNT_HELPER_DIR \"${STRATA_MOUNT_HELPER_DIR}\")
  set(STRATA_LIBEXEC_DIR \"${CMAKE_INSTALL_LIBEXECDIR}\")
  set(STRATA_DOC_DIR \"${CMAKE_INSTALL_DOCDIR}\")
  set(STRATA_MAN_DIR \"${CMAKE_INSTALL_MANDIR}\")
  set(STRATA_DATA_DIR \"${CMAKE_INSTALL_DATADIR}\")
")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/InstallSystemFiles.cmake)

file(GLOB strata_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${strata_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/mount-helpers/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${PROJECT_SOURCE_DIR}/mount-helpers/bash-completion/strata
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
# Last (tests/ installs nothing): directories the install made readable by everyone, whatever
# the installing user's umask.
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/InstallDirectoryModes.cmake)

# The Debian package. Dependencies are named rather than computed (dpkg-shlibdeps), so the
# package builds the same anywhere; tests/e2e/systemd_package_test.cpp checks that every shared
# library the binaries need belongs to one of them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME strata)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "strata developers <strata@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "browsable, deduplicated backups: every snapshot is a directory")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "strata keeps backups in a content-addressed, deduplicating repository (LMDB index,
append-only zstd pack files) and mounts it through FUSE so that every snapshot is a
read-only directory. It includes mount.strata for fstab and automount, and systemd
units for mounts and scheduled ingests.")
# Install with DESTDIR into the staging tree and CMAKE_INSTALL_PREFIX=/usr, so the units name
# /usr/bin/strata, not a staging path.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libstdc++6, libgcc-s1, libfuse3-3, liblmdb0, libzstd1, libssl3, libboost-program-options1.74.0, libsystemd0, libcurl4, libexpat1, libsodium23, libarchive13, fuse3")
# A sanitizer build's binaries need their runtimes too (gcc 12's, as Debian 12 packages them); the
# package test checks every library a binary needs comes from Depends.
if(STRATA_SANITIZE)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libasan8, libubsan1")
elseif(STRATA_TSAN)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libtsan2")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/mount-helpers/debian/postinst ${PROJECT_SOURCE_DIR}/mount-helpers/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
