# Header-only dependencies for the mingw-w64 cross-build (included by the top-level
# CMakeLists.txt when WIN32).
#
# The toolchain file searches the mingw sysroot only, and -I/usr/include would let
# glibc's headers shadow mingw's. So Debian's header-only packages are copied to a
# private include directory of the build tree, and a minimal package config is written
# for each, so the ordinary find_package() calls of the project find them:
#   doctest         -> doctest::doctest
#   nlohmann_json   -> nlohmann_json::nlohmann_json
#   msgpack         -> msgpackc-cxx (without Boost)
#   tomlplusplus    -> tomlplusplus::tomlplusplus (header-only mode)
include_guard(GLOBAL)

set(STELLA_WINDOWS_DEPS_DIR ${CMAKE_BINARY_DIR}/windows-deps)
set(STELLA_HOST_INCLUDE_DIR /usr/include CACHE PATH "Where the host's header-only packages are (copied, never on the include path)")

# stella_windows_header_package(PACKAGE TARGET VERSION HEADERS... [DEFINES ...])
function(stella_windows_header_package package target version)
  cmake_parse_arguments(P "" "" "HEADERS;DEFINES" ${ARGN})
  foreach(h ${P_HEADERS})
    if(NOT EXISTS ${STELLA_HOST_INCLUDE_DIR}/${h})
      message(STATUS "Windows deps: ${package} not found (${STELLA_HOST_INCLUDE_DIR}/${h})")
      return()
    endif()
  endforeach()
  foreach(h ${P_HEADERS})
    file(COPY ${STELLA_HOST_INCLUDE_DIR}/${h} DESTINATION ${STELLA_WINDOWS_DEPS_DIR}/include)
  endforeach()
  set(dir ${STELLA_WINDOWS_DEPS_DIR}/cmake/${package})
  file(WRITE ${dir}/${package}Config.cmake
"if(NOT TARGET ${target})
  add_library(${target} INTERFACE IMPORTED)
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES \"${STELLA_WINDOWS_DEPS_DIR}/include\"
    INTERFACE_COMPILE_DEFINITIONS \"${P_DEFINES}\")
endif()
")
  file(WRITE ${dir}/${package}ConfigVersion.cmake
"set(PACKAGE_VERSION ${version})
if(PACKAGE_FIND_VERSION AND PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
")
  # An explicit <package>_DIR is used as given, outside the find-root.
  set(${package}_DIR ${dir} CACHE PATH "Private copy of ${package} for the Windows build" FORCE)
endfunction()

stella_windows_header_package(doctest doctest::doctest 2.4 HEADERS doctest)
stella_windows_header_package(nlohmann_json nlohmann_json::nlohmann_json 3.11 HEADERS nlohmann)
stella_windows_header_package(msgpack msgpackc-cxx 4.1 HEADERS msgpack msgpack.hpp
  DEFINES "MSGPACK_NO_BOOST;MSGPACK_DEFAULT_API_VERSION=3")
stella_windows_header_package(tomlplusplus tomlplusplus::tomlplusplus 3.3 HEADERS toml++
  DEFINES "TOML_HEADER_ONLY=1")
