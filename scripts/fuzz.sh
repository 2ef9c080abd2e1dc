#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-14, ASan and UBSan, and runs each
# one for a bounded time. Fails if any target crashes, hangs (-timeout), leaks or runs out
# of memory, or if the build fails.
#
#   scripts/fuzz.sh                 # every target, 60 s each
#   scripts/fuzz.sh --time 600      # 10 minutes each
#   scripts/fuzz.sh --only fuzz_ring_reader --time 3600
#
# Every run starts from the committed seed corpus (tests/fuzz/corpus/<target>/, replayed
# in full first, so a committed crashing input fails at once) plus what earlier runs in
# this build directory found (build/fuzz/corpus/<target>/). Crashing inputs are written to
# build/fuzz/artifacts/<target>/; to keep one as a regression, copy it into the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TIME=60
ONLY=""
JOBS=${JOBS:-2}
TIMEOUT=${FUZZ_TIMEOUT:-10}   # seconds one input may take before it counts as a hang
RSS_LIMIT=${FUZZ_RSS_LIMIT_MB:-2048}
while (($#)); do
  case $1 in
    --time) TIME=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

BUILD=${STELLA_FUZZ_BUILD:-$ROOT/build/fuzz}
export CCACHE_DIR=${CCACHE_DIR:-$(dirname "$BUILD")/.ccache}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz.sh: clang++-14 not found (scripts/install-deps.sh installs clang-14 and libclang-rt-14-dev)" >&2
  exit 2
fi

echo "=== fuzz: configure and build ($BUILD)"
CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTELLA_FUZZ=ON -DSTELLA_SANITIZE=address,undefined \
  -DSTELLA_BUILD_DAEMON=OFF -DSTELLA_BUILD_EXAMPLES=OFF -DSTELLA_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target stella_fuzzers

mapfile -t TARGETS < "$BUILD/fuzz-targets.txt"
if [[ -n $ONLY ]]; then TARGETS=("$ONLY"); fi

failed=()
for t in "${TARGETS[@]}"; do
  seeds=$ROOT/tests/fuzz/corpus/$t
  work=$BUILD/corpus/$t
  artifacts=$BUILD/artifacts/$t
  mkdir -p "$work" "$artifacts"
  dict=()
  if [[ -f $ROOT/tests/fuzz/$t.dict ]]; then dict=(-dict="$ROOT/tests/fuzz/$t.dict"); fi
  echo "=== fuzz: $t for ${TIME}s ($(date +%T))"
  log=$BUILD/$t.log
  # New inputs go to the first directory (the build's), the committed seeds stay as they are.
  if "$BUILD/tests/fuzz/$t" "$work" "$seeds" "${dict[@]}" -max_total_time="$TIME" -timeout="$TIMEOUT" \
       -rss_limit_mb="$RSS_LIMIT" -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|Done [0-9]+ runs" "$log" | tr '\n' ' '; echo
  else
    echo "!!! $t FAILED; last lines of $log:"
    tail -n 60 "$log"
    ls -1 "$artifacts" | sed 's/^/    artifact: /'
    failed+=("$t")
  fi
done
rm -f /dev/shm/stella.fuzz-blob-* 2>/dev/null || true

if ((${#failed[@]})); then
  echo "=== fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "=== fuzz: all ${#TARGETS[@]} targets ran ${TIME}s each without a crash"
