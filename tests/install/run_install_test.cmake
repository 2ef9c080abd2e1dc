# cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DCXX=... -DCC=... -DGENERATOR=...
#       -DLIBDIR=lib -DINCLUDEDIR=include -DSOVERSION=0.1 -P run_install_test.cmake
#
# Installs into WORK_DIR/installed, then moves the tree to WORK_DIR/moved/stella: every
# consumer below works from a place neither the build nor the install ever saw.
set(installed "${WORK_DIR}/installed")
set(prefix "${WORK_DIR}/moved/stella")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/moved")

include(${CMAKE_CURRENT_LIST_DIR}/consumers.cmake)

# 1. Install the build tree, check what is there, move it.
run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${installed}")
set(so "${LIBDIR}/libstella.so")
foreach(f ${INCLUDEDIR}/stella/stella.hpp ${INCLUDEDIR}/stella/stella.h ${INCLUDEDIR}/stella/common/export.h
          ${INCLUDEDIR}/stella/shared_memory.hpp ${INCLUDEDIR}/stella/serializers/json.hpp
          ${INCLUDEDIR}/stella/common/blob.hpp ${LIBDIR}/libstella.a ${LIBDIR}/libstella_common.a
          ${so} ${so}.${SOVERSION} ${LIBDIR}/cmake/Stella/StellaConfig.cmake
          ${LIBDIR}/pkgconfig/stella.pc ${LIBDIR}/pkgconfig/stella-c.pc)
  if(NOT EXISTS "${installed}/${f}")
    message(FATAL_ERROR "not installed: ${installed}/${f}")
  endif()
endforeach()
file(GLOB_RECURSE text_files "${installed}/${LIBDIR}/cmake/*" "${installed}/${LIBDIR}/pkgconfig/*")
foreach(f ${text_files})
  file(READ "${f}" content)
  string(FIND "${content}" "${installed}" at)
  if(NOT at LESS 0)
    message(FATAL_ERROR "${f} names the install prefix ${installed}: the tree is not relocatable")
  endif()
endforeach()
file(RENAME "${installed}" "${prefix}")

# 2. find_package(Stella) and pkg-config consumers, from the moved tree.
build_and_run_consumers(install "${prefix}" "${LIBDIR}")
