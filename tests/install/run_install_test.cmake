# cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DCXX=... -DCC=... -DGENERATOR=...
#       -DLIBDIR=lib -DINCLUDEDIR=include -DSOVERSION=0.1 -P run_install_test.cmake
#
# Installs into WORK_DIR/installed, then moves the tree to WORK_DIR/moved/stella: every
# consumer below works from a place neither the build nor the install ever saw.
set(installed "${WORK_DIR}/installed")
set(prefix "${WORK_DIR}/moved/stella")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/moved")

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# The consumer's program must print "ok stella VERSION".
function(check_ok step)
  if(NOT last_output MATCHES "^ok stella [0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "${step} printed '${last_output}'")
  endif()
  message(STATUS "${step}: ${last_output}")
endfunction()

# Whether `binary` loads libstella.so.SOVERSION (yes/no expected).
find_program(OBJDUMP objdump REQUIRED)
function(check_needs_shared binary expected)
  run("objdump -p ${binary}" "${OBJDUMP}" -p "${binary}")
  string(FIND "${last_output}" "NEEDED               libstella.so.${SOVERSION}" at)
  if(expected AND at LESS 0)
    message(FATAL_ERROR "${binary} does not load libstella.so.${SOVERSION}:\n${last_output}")
  elseif(NOT expected AND NOT at LESS 0)
    message(FATAL_ERROR "${binary} loads libstella.so although it links the static library")
  endif()
endfunction()

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

# 2. find_package(Stella): stella::client (static), stella::stella (shared), and C.
run("configuring the consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/cmake-build"
    -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_C_COMPILER=${CC} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=Release)
run("building the consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-build")
foreach(kind static shared c)
  set(exe "${WORK_DIR}/cmake-build/consumer_${kind}")
  run("running consumer_${kind} (CMake)" "${exe}")
  check_ok("find_package consumer_${kind}")
  if(kind STREQUAL "static")
    check_needs_shared("${exe}" NO)
  else()
    check_needs_shared("${exe}" YES)
  endif()
endforeach()

# 3. pkg-config, with nothing but PKG_CONFIG_PATH: stella.pc (C++), stella-c.pc (C).
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
foreach(pc stella stella-c)
  run("pkg-config ${pc}" "${PKG_CONFIG}" --cflags --libs ${pc})
  string(STRIP "${last_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(exe "${WORK_DIR}/pc-consumer-${pc}")
  if(pc STREQUAL "stella")
    run("compiling the consumer with ${pc}.pc" "${CXX}" "${CONSUMER_DIR}/main.cpp" -o "${exe}" ${flags})
  else()
    run("compiling the consumer with ${pc}.pc" "${CC}" -std=c11 "${CONSUMER_DIR}/main.c" -o "${exe}" ${flags})
  endif()
  check_needs_shared("${exe}" YES)
  run("running the consumer (${pc}.pc)" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${prefix}/${LIBDIR}" "${exe}")
  check_ok("pkg-config ${pc} consumer")
endforeach()
