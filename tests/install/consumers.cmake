# Shared by run_install_test.cmake and run_deb_test.cmake: builds and runs the consumers in
# CONSUMER_DIR against an installed Stella, as users would. Expects CONSUMER_DIR, CXX, CC,
# GENERATOR, SOVERSION and WORK_DIR to be set.

# Runs a command; fails the test with its output unless it exits 0. Sets last_output.
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

# Whether `binary` loads libstella.so.SOVERSION (YES/NO expected).
function(check_needs_shared binary expected)
  find_program(OBJDUMP objdump REQUIRED)
  run("objdump -p ${binary}" "${OBJDUMP}" -p "${binary}")
  string(FIND "${last_output}" "NEEDED               libstella.so.${SOVERSION}" at)
  if(expected AND at LESS 0)
    message(FATAL_ERROR "${binary} does not load libstella.so.${SOVERSION}:\n${last_output}")
  elseif(NOT expected AND NOT at LESS 0)
    message(FATAL_ERROR "${binary} loads libstella.so although it links the static library")
  endif()
endfunction()

# Builds and runs every consumer against the Stella installed under `prefix` (libraries in
# prefix/libdir): find_package(Stella) with stella::client (static), stella::stella (shared)
# and from C; pkg-config stella (C++) and stella-c (C) with nothing but PKG_CONFIG_PATH.
function(build_and_run_consumers label prefix libdir)
  set(build "${WORK_DIR}/${label}-cmake-build")
  run("configuring the consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${build}"
      -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_C_COMPILER=${CC} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=Release)
  file(READ "${build}/CMakeCache.txt" cache)
  if(NOT cache MATCHES "Stella_DIR:PATH=${prefix}/${libdir}/cmake/Stella")
    message(FATAL_ERROR "the consumer did not find ${prefix}/${libdir}/cmake/Stella")
  endif()
  run("building the consumer" "${CMAKE_COMMAND}" --build "${build}")
  foreach(kind static shared c)
    set(exe "${build}/consumer_${kind}")
    run("running consumer_${kind}" "${exe}")  # CMake gave it the run path
    check_ok("${label} find_package consumer_${kind}")
    if(kind STREQUAL "static")
      check_needs_shared("${exe}" NO)
    else()
      check_needs_shared("${exe}" YES)
    endif()
  endforeach()

  find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${libdir}/pkgconfig")
  foreach(pc stella stella-c)
    run("pkg-config ${pc}" "${PKG_CONFIG}" --cflags --libs ${pc})
    string(STRIP "${last_output}" flags)
    if(NOT flags MATCHES "^-I${prefix}/")
      message(FATAL_ERROR "pkg-config ${pc} does not point into ${prefix}: ${flags}")
    endif()
    separate_arguments(flags UNIX_COMMAND "${flags}")
    set(exe "${WORK_DIR}/${label}-pc-consumer-${pc}")
    if(pc STREQUAL "stella")
      run("compiling the consumer with ${pc}.pc" "${CXX}" "${CONSUMER_DIR}/main.cpp" -o "${exe}" ${flags})
    else()
      run("compiling the consumer with ${pc}.pc" "${CC}" -std=c11 "${CONSUMER_DIR}/main.c" -o "${exe}" ${flags})
    endif()
    check_needs_shared("${exe}" YES)
    run("running the consumer (${pc}.pc)" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${prefix}/${libdir}" "${exe}")
    check_ok("${label} pkg-config ${pc} consumer")
  endforeach()
endfunction()
