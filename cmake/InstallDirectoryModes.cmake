# Runs last at install time (install(SCRIPT) at the end of cmake/SystemIntegration.cmake): every
# directory on the way to an installed file, from the prefix down (under DESTDIR: every directory
# of the staging tree on the way), gets read and search permission for everyone. CMake makes
# missing directories with mkdir(0777), so the installing user's umask decides: under root's 077
# (hardened systems) they came out 0700, and then `man strata` said "No manual entry" to every
# other user, who could not read the docs or run strata either. Bits are only added (chmod go+rx),
# so a directory that existed keeps its group write and setgid bits (Debian's /usr/local is 2775
# root:staff).

cmake_policy(VERSION 3.22)  # an install script runs without the project's policies

string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" destdir "$ENV{DESTDIR}")
if(destdir)
    # A staging tree (cpack's too): every directory in it on the way to a file is ours, and the
    # package takes their modes from it.
    set(top "${destdir}/")
    set(dirs "")
else()
    set(top "${prefix}/")
    set(dirs "${prefix}")  # perhaps made by this install too (--prefix /opt/strata)
endif()
string(LENGTH "${top}" top_length)
foreach(file IN LISTS CMAKE_INSTALL_MANIFEST_FILES)
    # The manifest names files as installed, without DESTDIR.
    get_filename_component(dir "$ENV{DESTDIR}${file}" DIRECTORY)
    string(LENGTH "${dir}" length)
    while(length GREATER top_length)
        string(SUBSTRING "${dir}" 0 ${top_length} head)
        if(NOT head STREQUAL top)
            break()
        endif()
        list(APPEND dirs "${dir}")
        get_filename_component(dir "${dir}" DIRECTORY)
        string(LENGTH "${dir}" length)
    endwhile()
endforeach()
list(REMOVE_DUPLICATES dirs)
if(dirs)
    execute_process(COMMAND chmod go+rx ${dirs} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "chmod go+rx of the installed directories failed (${rc})")
    endif()
endif()
