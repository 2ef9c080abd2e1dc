#!/usr/bin/env bash
# Installs what is missing, builds Stella (Release, in build/demo) and runs the main job.
# Until stellad exists, the main job is the original README's SharedMemory example across
# two processes: process A creates the segment and writes a JSON value, process B opens it
# and prints the value's message.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/install-deps.sh

BUILD=${STELLA_DEMO_BUILD:-$ROOT/build/demo}
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$ROOT/build/.ccache}
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSTELLA_BUILD_TESTS=OFF -DSTELLA_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS"

EXAMPLE="$BUILD/examples/shared_memory_example"
NAME="MySharedData-demo-$$"
trap '"$EXAMPLE" remove "$NAME" >/dev/null 2>&1 || true' EXIT

echo
echo "== process A: create '$NAME' and write"
"$EXAMPLE" write "$NAME"
echo "== process B (another process): open '$NAME' and read"
"$EXAMPLE" read "$NAME"
echo "== the segment lives in /dev/shm/stella.$NAME until removed; removing it"
