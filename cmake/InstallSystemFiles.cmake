# Runs at install time (install(SCRIPT) from cmake/SystemIntegration.cmake, which sets the
# STRATA_* variables first). Here CMAKE_INSTALL_PREFIX is the prefix really installed into
# (--prefix, or /usr under cpack), so the files written here name the installed paths.
# file(INSTALL) adds $DESTDIR and records every file in install_manifest.txt.

string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")

function(strata_absolute out path)
    if(IS_ABSOLUTE "${path}")
        set(${out} "${path}" PARENT_SCOPE)
    else()
        set(${out} "${prefix}/${path}" PARENT_SCOPE)
    endif()
endfunction()

if(STRATA_MOUNT_HELPER_DIR)
    strata_absolute(helper_dir "${STRATA_MOUNT_HELPER_DIR}")
elseif(prefix STREQUAL "/usr" OR prefix STREQUAL "")
    # mount(8) searches /sbin, /sbin/fs.d and /sbin/fs only; on merged-/usr systems /sbin is
    # /usr/sbin, elsewhere only /sbin works. fuse3 ships /sbin/mount.fuse3 the same way.
    set(helper_dir "/sbin")
else()
    set(helper_dir "${prefix}/sbin")
endif()
strata_absolute(unit_dir "${STRATA_SYSTEMD_UNIT_DIR}")
strata_absolute(libexec_dir "${STRATA_LIBEXEC_DIR}/strata")
strata_absolute(doc_dir "${STRATA_DOC_DIR}")
strata_absolute(man_dir "${STRATA_MAN_DIR}")

# Substitutions for the templates in mount-helpers/.
set(STRATA_BINARY "${prefix}/bin/strata")
set(STRATA_INGEST_JOB "${libexec_dir}/strata-ingest-job")
set(STRATA_DOC_DIR "${doc_dir}")
set(FUSERMOUNT "/bin/fusermount3")  # where Debian's fuse3 puts it (also /usr/bin when /usr is merged)

set(src "${STRATA_SOURCE_DIR}/mount-helpers")
# One directory per destination, so installs into different places can run at the same time.
string(MD5 destination "$ENV{DESTDIR}|${prefix}")
set(gen "${STRATA_BINARY_DIR}/mount-helpers/installed/${destination}")
file(MAKE_DIRECTORY "${gen}")

file(INSTALL DESTINATION "${helper_dir}" TYPE PROGRAM FILES "${STRATA_MOUNT_HELPER_FILE}")
if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND strip --strip-unneeded "$ENV{DESTDIR}${helper_dir}/mount.strata")
endif()

foreach(unit strata-mount@.service strata-ingest@.service)
    configure_file("${src}/${unit}.in" "${gen}/${unit}" @ONLY)
    file(INSTALL DESTINATION "${unit_dir}" TYPE FILE FILES "${gen}/${unit}")
endforeach()
file(INSTALL DESTINATION "${unit_dir}" TYPE FILE FILES "${src}/strata-ingest@.timer")

configure_file("${src}/strata-ingest-job.in" "${gen}/strata-ingest-job" @ONLY)
file(INSTALL DESTINATION "${libexec_dir}" TYPE PROGRAM FILES "${gen}/strata-ingest-job")

# Man pages, gzip-compressed as Debian wants them (-n: no name or time stamp, reproducible).
foreach(page strata.1 mount.strata.8)
    string(REGEX MATCH "[0-9]$" section "${page}")
    configure_file("${src}/man/${page}" "${gen}/${page}" @ONLY)
    execute_process(COMMAND gzip -9 -n -f -k "${gen}/${page}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "gzip ${gen}/${page} failed (${rc})")
    endif()
    file(INSTALL DESTINATION "${man_dir}/man${section}" TYPE FILE FILES "${gen}/${page}.gz")
endforeach()
