# cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DCXX=... -DGENERATOR=... -DLIBDIR=lib
#       -DINCLUDEDIR=include -P run_install_test.cmake
set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# 1. Install the build tree.
run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f ${INCLUDEDIR}/stella/stella.hpp ${INCLUDEDIR}/stella/shared_memory.hpp
          ${INCLUDEDIR}/stella/serializers/json.hpp ${INCLUDEDIR}/stella/common/blob.hpp
          ${LIBDIR}/libstella.a ${LIBDIR}/libstella_common.a ${LIBDIR}/cmake/Stella/StellaConfig.cmake
          ${LIBDIR}/pkgconfig/stella.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()

# 2. find_package(Stella) -> stella::client.
run("configuring the consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/cmake-build"
    -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run("building the consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-build")
run("running the consumer (CMake)" "${WORK_DIR}/cmake-build/consumer")
if(NOT last_output MATCHES "^ok stella ")
  message(FATAL_ERROR "the CMake consumer printed '${last_output}'")
endif()
message(STATUS "find_package consumer: ${last_output}")

# 3. pkg-config: the .pc names the configured prefix; point it at the temporary one.
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
run("pkg-config" "${PKG_CONFIG}" --define-variable=prefix=${prefix} --cflags --libs stella)
string(STRIP "${last_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run("compiling the consumer with pkg-config flags" "${CXX}" "${CONSUMER_DIR}/main.cpp" -o "${WORK_DIR}/pc-consumer" ${flags})
run("running the consumer (pkg-config)" "${WORK_DIR}/pc-consumer")
if(NOT last_output MATCHES "^ok stella ")
  message(FATAL_ERROR "the pkg-config consumer printed '${last_output}'")
endif()
message(STATUS "pkg-config consumer: ${last_output}")
