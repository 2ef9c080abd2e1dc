#!/usr/bin/env bash
# Long soak: the chaos test (4 writers and 3 readers killed with SIGKILL and respawned every
# 10-50 ms) on a ring that stellad owns, while stellad itself is killed with SIGKILL and
# restarted from time to time. Ends with a report: records sent, delivered, lost by design
# (Overwrite), torn (must be 0), stalls past the limit (must be 0), recoveries and reaps.
#
#   scripts/soak.sh [--duration 10m] [--mode block|overwrite] [--daemon-kill-every 30]
#
# Exits non-zero if anything was torn, a committed message was lost in Block mode, or a
# stall outlasted the recovery timeout plus slack.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=10m
MODE=block
KILL_EVERY=30
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --mode) MODE=$2; shift 2 ;;
    --daemon-kill-every) KILL_EVERY=$2; shift 2 ;;
    *) echo "usage: $0 [--duration 10m|600s] [--mode block|overwrite] [--daemon-kill-every SECONDS]" >&2; exit 2 ;;
  esac
done
case $DURATION in
  *h) SECONDS_TOTAL=$(( ${DURATION%h} * 3600 )) ;;
  *m) SECONDS_TOTAL=$(( ${DURATION%m} * 60 )) ;;
  *s) SECONDS_TOTAL=${DURATION%s} ;;
  *) SECONDS_TOTAL=$DURATION ;;
esac

scripts/install-deps.sh
BUILD=${STELLA_SOAK_BUILD:-$ROOT/build/soak}
export CCACHE_DIR=${CCACHE_DIR:-$ROOT/build/.ccache}
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSTELLA_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target stellad ring_chaos ring_proc >/dev/null

RUNTIME=$(mktemp -d "${TMPDIR:-/tmp}/stella-soak.XXXXXX")
SEGMENT="soak-$$"
SOCKET="$RUNTIME/stellad.sock"
cat > "$RUNTIME/soak.toml" <<TOML
version = 1
[daemon]
socket = "$SOCKET"
reap_interval = "100ms"
recovery_timeout = "200ms"
log_level = "warn"
[[segment]]
name = "$SEGMENT"
kind = "ring"
capacity = "64KiB"
mode = "$MODE"
max_readers = 32
max_writers = 64
TOML

STELLAD_PID=""
start_daemon() {
  "$BUILD/daemon/stellad" run --config "$RUNTIME/soak.toml" 2>>"$RUNTIME/stellad.log" &
  STELLAD_PID=$!
  for _ in $(seq 1 200); do
    "$BUILD/daemon/stellad" status --socket "$SOCKET" >/dev/null 2>&1 && return 0
    [[ $? -eq 1 ]] && return 0  # degraded still answers
    sleep 0.05
  done
  echo "stellad did not come up; log:" >&2
  cat "$RUNTIME/stellad.log" >&2
  return 1
}
cleanup() {
  [[ -n "${CHAOS_PID:-}" ]] && kill -9 "$CHAOS_PID" 2>/dev/null || true
  [[ -n "$STELLAD_PID" ]] && kill -TERM "$STELLAD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "/dev/shm/stella.$SEGMENT"
  rm -rf "$RUNTIME"
}
trap cleanup EXIT

start_daemon
echo "soak: $MODE ring '$SEGMENT' for ${SECONDS_TOTAL}s; stellad killed -9 and restarted every ${KILL_EVERY}s"
"$BUILD/tests/ring/ring_chaos" --proc "$BUILD/tests/ring/ring_proc" --duration "$SECONDS_TOTAL" --mode "$MODE" \
  --open "$SEGMENT" > "$RUNTIME/chaos.log" 2>&1 &
CHAOS_PID=$!
RESTARTS=0
END=$(( $(date +%s) + SECONDS_TOTAL ))
while kill -0 "$CHAOS_PID" 2>/dev/null && [[ $(date +%s) -lt $END ]]; do
  sleep "$KILL_EVERY" & wait $! || true  # the daemon's lifetime between kills
  kill -0 "$CHAOS_PID" 2>/dev/null || break
  [[ $(date +%s) -lt $END ]] || break
  kill -9 "$STELLAD_PID" 2>/dev/null || true
  wait "$STELLAD_PID" 2>/dev/null || true
  start_daemon
  RESTARTS=$((RESTARTS + 1))
done
CHAOS_RC=0
wait "$CHAOS_PID" || CHAOS_RC=$?
CHAOS_PID=""
STATUS_JSON=$("$BUILD/daemon/stellad" status --socket "$SOCKET" --json 2>/dev/null || true)

result() { grep '^RESULT' "$RUNTIME/chaos.log" | head -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
survivor() { grep '^survivor:' "$RUNTIME/chaos.log" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
echo
echo "== soak report ($MODE, ${SECONDS_TOTAL}s)"
printf '%-34s %s\n' "bytes reserved by writers" "$(result reserved_bytes)"
printf '%-34s %s\n' "delivered to the surviving reader" "$(survivor read)"
printf '%-34s %s\n' "lost by design (Overwrite laps)" "$(survivor lost)"
printf '%-34s %s\n' "torn (must be 0)" "$(survivor torn)"
printf '%-34s %s\n' "gaps in committed data (Block: 0)" "$(survivor gaps)"
printf '%-34s %s ms (limit %s ms)\n' "longest stall" "$(result max_stall_ms)" "$(result stall_limit_ms)"
printf '%-34s %s / %s\n' "writers / readers killed" "$(result writer_kills)" "$(result reader_kills)"
printf '%-34s %s\n' "stellad killed -9 and restarted" "$RESTARTS"
printf '%-34s %s repaired reservations, %s given up, %s readers reaped, %s writers reaped\n' "recoveries (ring counters)" \
  "$(result records_repaired)" "$(result reservations_given_up)" "$(result readers_reaped)" "$(result writers_reaped)"
if [[ -n "$STATUS_JSON" ]]; then echo "stellad status --json: $STATUS_JSON" | cut -c1-400; fi
grep '^FAIL' "$RUNTIME/chaos.log" || true
if [[ $CHAOS_RC -ne 0 ]]; then
  echo "SOAK FAILED (chaos exit $CHAOS_RC)"; tail -20 "$RUNTIME/chaos.log"; exit 1
fi
echo "SOAK PASSED"
