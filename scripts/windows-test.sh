#!/usr/bin/env bash
# Cross-builds Stella for Windows with mingw-w64 and runs its tests under wine64.
#   scripts/windows-test.sh            build into build/mingw, run every Windows test
# Environment: JOBS (default nproc), STELLA_BUILD_ROOT (default ./build),
#   STELLA_MINGW_BUILD_TYPE (default Release).
# Installs mingw-w64, g++-mingw-w64-x86-64-posix, wine and wine64 if missing (about 50 s
# and 2 GB the first time). Uses its own Wine prefix inside the build directory and a
# persistent wineserver for the run (otherwise every test pays ~2 s of Wine start-up),
# stopped on exit. Exits non-zero on any failure. See docs/windows.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
start=$(date +%s)

WINDOWS_PACKAGES=(mingw-w64 g++-mingw-w64-x86-64-posix wine wine64)
missing=()
for p in "${WINDOWS_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q "${missing[@]}"
fi
# The header-only packages the cross-build copies (doctest, nlohmann-json, msgpack, toml++).
STELLA_EXTRA_PACKAGES="${STELLA_EXTRA_PACKAGES:-}" scripts/install-deps.sh

JOBS=${JOBS:-$(nproc)}
BUILD_ROOT=${STELLA_BUILD_ROOT:-$ROOT/build}
BUILD=$BUILD_ROOT/mingw
export CCACHE_DIR=${CCACHE_DIR:-$BUILD_ROOT/.ccache}
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
export WINEPREFIX=$BUILD/wineprefix
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-"mscoree,mshtml="}  # no Mono/Gecko prompts

echo "=== mingw-w64 build ($(date +%T))"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-mingw64.cmake" \
  -DCMAKE_BUILD_TYPE="${STELLA_MINGW_BUILD_TYPE:-Release}" -DSTELLA_WERROR=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS"

echo "=== Wine tests ($(date +%T))"
mkdir -p "$WINEPREFIX"
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  "$WINE" wineboot -i >/dev/null 2>&1 || true  # first use: create the prefix (~5-20 s)
  "$WINESERVER" -w  # until wineboot's server has saved the registry and exited
fi
# Persistent until -k. It fails if a server already runs for this prefix (another run):
# then that one serves us.
"$WINESERVER" -p || echo "(a wineserver already runs for $WINEPREFIX)"
trap '"$WINESERVER" -k >/dev/null 2>&1 || true' EXIT
# Warm-up: the first processes of a new wineserver start Wine's own services
# (services.exe, rpcss, plugplay...). Test processes started meanwhile were seen to hang at
# exit or to get ERROR_INTERNAL_ERROR from CreateProcess under Wine 8. Two warm-up
# processes first, and one retry of a failed test (each is seconds long; their timeouts
# are 120 s), absorb that Wine start-up flakiness; a real failure fails all attempts.
for _ in 1 2; do
  timeout 120 "$WINE" cmd.exe /c exit 0 >/dev/null 2>&1 || echo "(Wine warm-up did not finish cleanly)"
done
ctest --test-dir "$BUILD" -j "$JOBS" --output-on-failure --timeout 600 --repeat until-pass:2

echo "=== Windows tests passed under Wine in $(($(date +%s) - start)) s ($(date +%T))"
