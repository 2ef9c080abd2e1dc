# `cpack -G DEB` (from a build folder): one Debian package, "stella", holding everything
# the install rules install, with CPACK_PACKAGING_INSTALL_PREFIX /usr:
#   /usr/lib/libstella.so.* (+ the libstella.so link, libstella.a, libstella_common.a)
#   /usr/include/stella/...                the C and C++ headers
#   /usr/lib/cmake/Stella, /usr/lib/pkgconfig/stella.pc, stella-c.pc
#   /usr/bin/stellad, /usr/lib/systemd/system/stellad.service,
#   /usr/lib/sysusers.d/stella.conf, /usr/lib/tmpfiles.d/stella.conf
#   /usr/share/doc/stella/                 copyright, README.md, the example config
# The version is the project's (project(Stella VERSION ...) in CMakeLists.txt, the one place
# it is written); libstella's SONAME and symbol version derive from it too.
#
# Hook for more parts (the Python module, say): a part's install() rules land in the
# package by themselves; what the part needs from other packages it appends to the global
# property STELLA_DEB_DEPENDS, e.g.
#   set_property(GLOBAL APPEND PROPERTY STELLA_DEB_DEPENDS "python3 (>= 3.11)")
# and it installs Python code under ${STELLA_PYTHON_INSTALL_DIR} (lib/python3/dist-packages,
# where Debian's python3 finds it with the /usr prefix). Packaging.cmake is included last,
# after every part has been added.
set(CPACK_PACKAGE_NAME stella)
set(CPACK_PACKAGE_VENDOR "The Stella authors")
set(CPACK_PACKAGE_CONTACT "The Stella authors <stella@example.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "shared-memory IPC for C, C++ and bindings: library and stellad")
set(CPACK_PACKAGE_DESCRIPTION "Stella exchanges data between processes through named shared-memory
segments: multi-writer rings of variable-length messages with independent
lock-free readers, and blobs holding one value. This package has libstella
(C and C++ API, shared and static), its headers, CMake and pkg-config files,
and stellad, the broker daemon that owns the configured segments and repairs
what crashed processes leave behind, with its systemd unit.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)          # dpkg-shlibdeps: libc6, libstdc++6, libsystemd0, ...
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)    # a shlibs file
set(CPACK_STRIP_FILES ON)
get_property(_stella_deb_depends GLOBAL PROPERTY STELLA_DEB_DEPENDS)
if(_stella_deb_depends)
  list(JOIN _stella_deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
endif()
# Maintainer scripts (cmake/debian): postinst creates the stella user/group and /run/stella,
# /etc/stella (the service is not enabled: put a config in /etc/stella/stella.toml first,
# then systemctl enable --now stellad); ldconfig runs from a trigger, so postrm has nothing
# to do (given, so that CPack does not add an ldconfig call of its own).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "")
foreach(f postinst postrm triggers)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/${f} ${PROJECT_BINARY_DIR}/debian/${f} COPYONLY)
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/debian/${f})
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Debian's changelog.gz for a native package, from the project version (and
# SOURCE_DATE_EPOCH when set, for reproducible packages).
string(TIMESTAMP _stella_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${PROJECT_BINARY_DIR}/debian/changelog
     "stella (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Built from the Stella sources with cpack; see README.md for what changed.\n\n"
     " -- ${CPACK_PACKAGE_CONTACT}  ${_stella_deb_date}\n")
file(ARCHIVE_CREATE OUTPUT ${PROJECT_BINARY_DIR}/debian/changelog.gz PATHS ${PROJECT_BINARY_DIR}/debian/changelog
     FORMAT raw COMPRESSION GZip COMPRESSION_LEVEL 9)

install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_BINARY_DIR}/debian/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/stella)
install(FILES ${PROJECT_SOURCE_DIR}/config/stella.example.toml DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/stella/examples)

include(CPack)
