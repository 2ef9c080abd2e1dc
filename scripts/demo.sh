#!/usr/bin/env bash
# Installs what is missing, builds Stella (Release, in build/demo) and runs the main job:
#   1. stellad checks config/stella.example.toml, then runs it in the foreground (in the
#      background of this script) with its socket in a temporary runtime directory; it
#      creates the segments "telemetry" (Overwrite ring), "events" (Block ring) and
#      "settings" (blob);
#   2. the original README's examples run as separate processes: two writers and a reader
#      on each ring, and the SharedMemory example (process A writes, process B reads);
#   3. `stellad status` shows the segments, their writers and readers; `--json` for tools;
#   4. SIGTERM stops stellad cleanly (the segments outlive it, as configured), then the
#      script removes what it created.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/install-deps.sh

BUILD=${STELLA_DEMO_BUILD:-$ROOT/build/demo}
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$ROOT/build/.ccache}
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSTELLA_BUILD_TESTS=OFF -DSTELLA_BUILD_BENCH=OFF >/dev/null
# stella_shared too (issue 16): everything `cmake --install build/demo` installs is then built.
# The Python module (stella_python) as well, when pybind11 was found (bindings/python).
PYTHON_TARGET=$(cmake --build "$BUILD" --target help | grep -ow stella_python | head -n1 || true)
cmake --build "$BUILD" -j "$JOBS" --target stellad shared_memory_example ring_example stella_shared $PYTHON_TARGET

STELLAD="$BUILD/daemon/stellad"
RING="$BUILD/examples/ring_example"
SHM="$BUILD/examples/shared_memory_example"
CONFIG="$ROOT/config/stella.example.toml"
RUNTIME=$(mktemp -d "${TMPDIR:-/tmp}/stella-demo.XXXXXX")
SOCKET="$RUNTIME/stellad.sock"
SHM_NAME="MySharedData-demo-$$"
STELLAD_PID=""

cleanup() {
  if [[ -n "$STELLAD_PID" ]] && kill -0 "$STELLAD_PID" 2>/dev/null; then
    kill -TERM "$STELLAD_PID" 2>/dev/null || true
    wait "$STELLAD_PID" 2>/dev/null || true
  fi
  "$SHM" remove "$SHM_NAME" >/dev/null 2>&1 || true
  # The example config keeps its segments when stellad stops (remove_on_exit = false),
  # as a production daemon should; the demo removes them.
  "$RING" remove telemetry >/dev/null 2>&1 || true
  "$RING" remove events >/dev/null 2>&1 || true
  "$SHM" remove settings >/dev/null 2>&1 || true
  rm -rf "$RUNTIME"
}
trap cleanup EXIT

for name in telemetry events settings; do
  if [[ -e /dev/shm/stella.$name ]]; then
    echo "note: /dev/shm/stella.$name exists already; stellad adopts it if it matches the config, else refuses it"
  fi
done

echo
echo "== stellad check-config $CONFIG"
"$STELLAD" check-config "$CONFIG"

echo
echo "== stellad run --config $CONFIG --socket $SOCKET   (log: $RUNTIME/stellad.log)"
"$STELLAD" run --config "$CONFIG" --socket "$SOCKET" 2>"$RUNTIME/stellad.log" &
STELLAD_PID=$!
# Ready when it answers on its socket (under systemd, READY=1 says the same).
for _ in $(seq 100); do
  if "$STELLAD" status --socket "$SOCKET" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$STELLAD_PID" 2>/dev/null; then
    cat "$RUNTIME/stellad.log"
    echo "stellad failed to start" >&2
    exit 1
  fi
  sleep 0.1
done
cat "$RUNTIME/stellad.log"
ls -l /dev/shm/stella.telemetry /dev/shm/stella.events /dev/shm/stella.settings

echo
echo "== 'events' (Block): a reader waits for 5 messages while two writer processes write 3 and 2"
"$RING" read events --wait 5 >"$RUNTIME/events-reader.out" &
READER_PID=$!
# ---- BEGIN .NET reader (issue 17; owner: dotnet) ----
# With the .NET SDK, a C# reader (the original README's reader loop, bindings/dotnet) reads
# the same ring beside the C++ one.
CS_READER_PID=""
if command -v dotnet >/dev/null 2>&1 &&
   (cd "$ROOT/bindings/dotnet" && dotnet build Stella.Peer/Stella.Peer.csproj -c Release -nologo -v quiet >"$RUNTIME/dotnet-build.log" 2>&1); then
  STELLA_LIBRARY="$BUILD/client/libstella.so" dotnet "$ROOT/bindings/dotnet/Stella.Peer/bin/Release/net10.0/Stella.Peer.dll" \
    log-reader events 5 >"$RUNTIME/events-cs-reader.out" &
  CS_READER_PID=$!
else
  echo "(no C# reader: the .NET SDK is missing or bindings/dotnet did not build)"
fi
# ---- END .NET reader ----
# The readers are registered once status shows them (Block writers then never overwrite their data).
for pid in $READER_PID $CS_READER_PID; do
  for _ in $(seq 200); do
    if "$STELLAD" status --socket "$SOCKET" --json | grep -q "\"pid\": $pid"; then break; fi
    sleep 0.05
  done
done
"$RING" write events --block --count 3
"$RING" write events --block --count 2
wait "$READER_PID"
cat "$RUNTIME/events-reader.out"
if [[ -n "$CS_READER_PID" ]]; then wait "$CS_READER_PID"; cat "$RUNTIME/events-cs-reader.out"; fi

echo
echo "== 'telemetry' (Overwrite): two writer processes, then a reader reads what is there"
"$RING" write telemetry --count 3
"$RING" write telemetry --count 2
"$RING" read telemetry

echo
echo "== SharedMemory: process A creates '$SHM_NAME' and writes; process B opens it and reads"
"$SHM" write "$SHM_NAME"
"$SHM" read "$SHM_NAME"

echo
echo "== stellad status   (exit 0 healthy, 1 degraded, 2 unreachable)"
# A reader that stays open shows up with its pid, lag and losses.
"$RING" read telemetry --wait 1000000 >/dev/null 2>&1 &
IDLE_READER=$!
for _ in $(seq 100); do
  if "$STELLAD" status --socket "$SOCKET" --json | grep -q "\"pid\": $IDLE_READER"; then break; fi
  sleep 0.05
done
set +e
"$STELLAD" status --socket "$SOCKET"
echo "(exit status $?)"
echo
echo "== stellad status --json (first lines)"
"$STELLAD" status --socket "$SOCKET" --json | head -n 20
set -e
kill "$IDLE_READER" 2>/dev/null || true
wait "$IDLE_READER" 2>/dev/null || true

echo
echo "== SIGTERM: stellad stops cleanly; the segments stay (remove_on_exit = false)"
kill -TERM "$STELLAD_PID"
wait "$STELLAD_PID"
echo "stellad exited with status $?"
STELLAD_PID=""
tail -n 3 "$RUNTIME/stellad.log"
ls /dev/shm/stella.telemetry /dev/shm/stella.events /dev/shm/stella.settings
echo "== removing the demo's segments"
