#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: a Release build, then an
# ASan+UBSan build, then a ThreadSanitizer build of the tests labelled "tsan".
# All with -Werror. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/install-deps.sh

JOBS=${JOBS:-$(nproc)}
BUILD_ROOT=${STELLA_BUILD_ROOT:-$ROOT/build}
export CCACHE_DIR=${CCACHE_DIR:-$BUILD_ROOT/.ccache}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

configure_build() {  # dir, cmake args...
  local dir=$1; shift
  cmake -S "$ROOT" -B "$dir" -DSTELLA_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

section() { echo; echo "=== $* ($(date +%T))"; }

section "Release build"
configure_build "$BUILD_ROOT/release" -DCMAKE_BUILD_TYPE=Release
section "Release tests"
ctest --test-dir "$BUILD_ROOT/release" -j "$JOBS" --output-on-failure --timeout 600

section "ASan+UBSan build"
configure_build "$BUILD_ROOT/asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTELLA_SANITIZE=address,undefined \
  -DSTELLA_BUILD_BENCH=OFF
section "ASan+UBSan tests"
ctest --test-dir "$BUILD_ROOT/asan" -j "$JOBS" --output-on-failure --timeout 900 -LE "no-sanitizer"

if grep -rqs 'LABELS.*tsan' "$ROOT/tests"; then
  section "ThreadSanitizer build"
  # Only what the "tsan" tests need: the ring, recovery and daemon tests (stellad itself
  # runs instrumented under stellad_crash_test).
  cmake -S "$ROOT" -B "$BUILD_ROOT/tsan" -DSTELLA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTELLA_SANITIZE=thread \
    -DSTELLA_BUILD_BENCH=OFF -DSTELLA_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$BUILD_ROOT/tsan" -j "$JOBS" --target ring_unit_test ring_recovery_test ring_proc \
    $(cd "$ROOT" && [[ -d daemon ]] && echo daemon_core_test stellad_crash_test stellad daemon_proc)
  section "ThreadSanitizer tests"
  ctest --test-dir "$BUILD_ROOT/tsan" -j "$JOBS" --output-on-failure --timeout 900 -L tsan
fi

# ---- BEGIN .NET binding (issue 17; owner: dotnet) ----
# bindings/dotnet/test.sh: builds the C# library and runs its xunit tests (README examples,
# C# <-> C++ processes on one ring, kill -9 of a C# writer, serializer interop) against
# build/release's libstella.so. NuGet restores from the local source (bindings/dotnet/nuget.config).
# About 60-90 s on the shared 2-core machine. Skipped, saying so, without the .NET SDK.
section ".NET binding (bindings/dotnet)"
if command -v dotnet >/dev/null 2>&1; then
  JOBS=$JOBS "$ROOT/bindings/dotnet/test.sh" "$BUILD_ROOT/release"
else
  echo "SKIPPED: .NET binding tests (bindings/dotnet): the .NET SDK ('dotnet') is not installed"
fi
# ---- END .NET binding ----

# ---- BEGIN API reference (issue 16; owner: reach) ----
# Doxygen (docs/api/Doxyfile.in) over the public headers into build/release/docs/api/html.
# Any warning fails it: an undocumented public class or member, a bad @param. About 5 s.
section "API reference (Doxygen)"
cmake --build "$BUILD_ROOT/release" --target docs
# ---- END API reference ----

section "all tests passed"

# ---- fuzzing (issue 7; owned by tests/fuzz) -----------------------------------------------
# Every libFuzzer target for a bounded time: 35 s each (6 targets plus the clang build
# stay under ~5 minutes). Fails on any crash, hang, leak or sanitizer report, including a
# committed crashing input in tests/fuzz/corpus that is not fixed yet. Longer runs:
# scripts/fuzz.sh --time 600. Skip with STELLA_SKIP_FUZZ=1.
if [[ ${STELLA_SKIP_FUZZ:-0} != 1 ]]; then
  section "Fuzzing (${STELLA_FUZZ_TIME:-35} s per target)"
  STELLA_FUZZ_BUILD="$BUILD_ROOT/fuzz" JOBS=$JOBS scripts/fuzz.sh --time "${STELLA_FUZZ_TIME:-35}"
  section "fuzzing passed"
fi
# ---- end of fuzzing ------------------------------------------------------------------------

# ---- BEGIN Windows cross-build (scripts/windows-test.sh; owner: the Windows issue) ----
# mingw-w64 build into build/mingw, tests under wine64. Measured on the shared 2-core
# machine (JOBS=2, other builds running): 70 s from an empty build/mingw with a warm ccache
# (fresh Wine prefix included), about 2 min with a cold ccache, plus about 1 min to install
# mingw-w64 and Wine the first time. STELLA_SKIP_WINDOWS=1 skips it.
if [[ ${STELLA_SKIP_WINDOWS:-0} != 1 ]]; then
  section "Windows cross-build and tests under Wine"
  JOBS=$JOBS STELLA_BUILD_ROOT=$BUILD_ROOT scripts/windows-test.sh
fi
# ---- END Windows cross-build ----
