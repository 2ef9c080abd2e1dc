# Cross-compiling Stella for 64-bit Windows with Debian's mingw-w64 (posix threads).
#   cmake -S . -B build/mingw -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
# The tests then run under Wine through ctest (CMAKE_CROSSCOMPILING_EMULATOR).
# scripts/windows-test.sh does all of it.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(STELLA_MINGW_TRIPLET x86_64-w64-mingw32)
# The -posix variant: the default -win32 one has no std::thread.
set(CMAKE_C_COMPILER ${STELLA_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${STELLA_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER ${STELLA_MINGW_TRIPLET}-windres)

# Look for headers, libraries and packages in the mingw sysroot ONLY: /usr/include would
# let glibc's headers shadow mingw's. Header-only dependencies (doctest, nlohmann-json)
# are copied to a private directory by cmake/WindowsDeps.cmake instead.
set(CMAKE_FIND_ROOT_PATH /usr/${STELLA_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static runtime: otherwise the .exe files need libstdc++-6.dll, libgcc_s_seh-1.dll and
# libwinpthread-1.dll beside them, and fail under Wine with exit code 53.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest runs each test .exe through wine64 (not on PATH in Debian).
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/lib/wine/wine64)
