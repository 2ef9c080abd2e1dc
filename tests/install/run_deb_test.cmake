# cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DCXX=... -DCC=... -DGENERATOR=...
#       -DVERSION=0.1.0 -DSOVERSION=0.1 -P run_deb_test.cmake
#
# Builds the .deb with cpack, checks its control data and contents, unpacks it with dpkg -x
# into a scratch root (no dpkg -i: nothing touches the machine), builds and runs the
# consumers against <root>/usr with CMake and pkg-config, runs the packaged stellad, and
# runs lintian when it is installed (errors fail the test; warnings are printed).
set(root "${WORK_DIR}/root")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${root}")

include(${CMAKE_CURRENT_LIST_DIR}/consumers.cmake)

# 1. Build the package.
run("cpack -G DEB" "${CMAKE_CPACK_COMMAND}" --config "${BUILD_DIR}/CPackConfig.cmake" -G DEB -B "${WORK_DIR}")
file(GLOB debs "${WORK_DIR}/*.deb")
list(LENGTH debs n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "cpack made ${n} .deb files: ${debs}")
endif()
set(deb "${debs}")
message(STATUS "built ${deb}")

# 2. Control data: name, the project's version, dependencies found by dpkg-shlibdeps.
run("dpkg-deb -f" dpkg-deb -f "${deb}" Package Version Depends Architecture)
if(NOT last_output MATCHES "Package: stella\n" OR NOT last_output MATCHES "Version: ${VERSION}\n"
   OR NOT last_output MATCHES "Depends: [^\n]*libc6")
  message(FATAL_ERROR "unexpected control fields:\n${last_output}")
endif()
run("dpkg-deb --ctrl-tarfile" dpkg-deb -I "${deb}")
foreach(script postinst postrm triggers shlibs)
  if(NOT last_output MATCHES " ${script}")
    message(FATAL_ERROR "the package has no ${script}:\n${last_output}")
  endif()
endforeach()

# 3. Contents.
run("dpkg -x" dpkg -x "${deb}" "${root}")
foreach(f usr/lib/libstella.so usr/lib/libstella.so.${SOVERSION} usr/lib/libstella.so.${VERSION} usr/lib/libstella.a
          usr/lib/libstella_common.a usr/include/stella/stella.h usr/include/stella/stella.hpp
          usr/include/stella/common/export.h usr/lib/cmake/Stella/StellaConfig.cmake
          usr/lib/pkgconfig/stella.pc usr/lib/pkgconfig/stella-c.pc usr/bin/stellad
          usr/lib/systemd/system/stellad.service usr/lib/sysusers.d/stella.conf usr/lib/tmpfiles.d/stella.conf
          usr/share/doc/stella/copyright usr/share/doc/stella/changelog.gz
          usr/share/doc/stella/examples/stella.example.toml)
  if(NOT EXISTS "${root}/${f}")
    message(FATAL_ERROR "the package lacks /${f}")
  endif()
endforeach()
file(READ "${root}/usr/lib/systemd/system/stellad.service" unit)
if(NOT unit MATCHES "ExecStart=/usr/bin/stellad run")
  message(FATAL_ERROR "stellad.service does not start the packaged /usr/bin/stellad")
endif()

# 4. The packaged stellad runs and validates the packaged example config.
run("stellad --version" "${root}/usr/bin/stellad" --version)
if(NOT last_output MATCHES "stellad ${VERSION}")
  message(FATAL_ERROR "stellad --version printed '${last_output}'")
endif()
run("stellad check-config" "${root}/usr/bin/stellad" check-config "${root}/usr/share/doc/stella/examples/stella.example.toml")

# 5. Consumers against the unpacked /usr: CMake (static, shared, C) and pkg-config (C++, C).
build_and_run_consumers(deb "${root}/usr" lib)

# 6. lintian (about 10 s), when installed: no errors. The known warnings are about packaging
# everything in one package (library, -dev files and daemon), which is the design for now.
find_program(LINTIAN lintian)
if(LINTIAN)
  execute_process(COMMAND ${LINTIAN} --tag-display-limit 0 "${deb}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  message(STATUS "lintian:\n${out}")
  if(out MATCHES "(^|\n)E: ")
    message(FATAL_ERROR "lintian reports errors:\n${out}\n${err}")
  endif()
else()
  message(STATUS "lintian is not installed: skipped (scripts/install-deps.sh installs it)")
endif()
