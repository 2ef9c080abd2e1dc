#!/usr/bin/env bash
# stellad.exe end to end under Wine (registered by tests/daemon/windows/CMakeLists.txt).
#   stellad_wine_test.sh console WINE STELLAD   run in the foreground: segments, status over
#                                               the named pipe, a second instance refused,
#                                               `stellad stop`
#   stellad_wine_test.sh service WINE STELLAD   as a Windows service: install, start, status,
#                                               stop, uninstall (Wine's Service Control Manager)
# Every name is unique per run; the service is uninstalled and the daemon stopped on exit.
set -uo pipefail
mode=$1 WINE=$2 STELLAD=$3
suffix=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
dir=$(mktemp -d /tmp/stellad-wine.XXXXXX)
winpath() { echo "Z:${1//\//\\}"; }
config=$dir/stellad.toml
cat >"$config" <<TOML
version = 1

[daemon]
socket = "$dir/wt-$suffix.sock"
reap_interval = "50ms"

[[segment]]
name = "wt-$suffix-ring"
kind = "ring"
capacity = "64KiB"

[[segment]]
name = "wt-$suffix-blob"
kind = "blob"
capacity = "4KiB"
TOML
wconfig=$(winpath "$config")
service="stellad-test-$suffix"
daemon_pid=""
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  if [[ $mode == service ]]; then "$WINE" "$STELLAD" service uninstall --name "$service" >/dev/null 2>&1; fi
  if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    "$WINE" "$STELLAD" stop --config "$wconfig" >/dev/null 2>&1 || kill "$daemon_pid" 2>/dev/null
  fi
  [[ -f $dir/run.log ]] && sed 's/^/  stellad: /' "$dir/run.log"
  rm -rf "$dir"
}
trap cleanup EXIT

# Polls `stellad status` until it answers healthy (exit 0) or 60 s pass.
wait_healthy() {
  for _ in $(seq 1 120); do
    if "$WINE" "$STELLAD" status --config "$wconfig" --json >"$dir/status.json" 2>"$dir/status.err"; then return 0; fi
    sleep 0.5
  done
  cat "$dir/status.err" >&2
  return 1
}

check_status() {
  grep -q "\"wt-$suffix-ring\"" "$dir/status.json" || fail "status lacks the ring segment: $(cat "$dir/status.json")"
  grep -q "\"wt-$suffix-blob\"" "$dir/status.json" || fail "status lacks the blob segment: $(cat "$dir/status.json")"
  grep -q '"refused"' "$dir/status.json" && fail "a segment was refused: $(cat "$dir/status.json")"
  "$WINE" "$STELLAD" status --config "$wconfig" || fail "the status table did not exit 0"
}

expect_unreachable() {
  "$WINE" "$STELLAD" status --config "$wconfig" >/dev/null 2>&1
  local rc=$?
  [[ $rc -eq 2 ]] || fail "status after the stop: expected exit 2 (unreachable), got $rc"
}

case $mode in
  console)
    "$WINE" "$STELLAD" run --config "$wconfig" >"$dir/run.log" 2>&1 &
    daemon_pid=$!
    wait_healthy || fail "stellad did not answer status within 60 s"
    check_status
    echo "ok: segments created, status answered over the named pipe"
    "$WINE" "$STELLAD" run --config "$wconfig" >"$dir/second.log" 2>&1
    rc=$?
    [[ $rc -eq 1 ]] || fail "a second stellad on the same socket: expected exit 1, got $rc"
    grep -q "already running" "$dir/second.log" || fail "second stellad: $(cat "$dir/second.log")"
    echo "ok: a second instance is refused: $(tail -1 "$dir/second.log")"
    "$WINE" "$STELLAD" stop --config "$wconfig" || fail "stellad stop failed"
    for _ in $(seq 1 60); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$daemon_pid" 2>/dev/null && fail "stellad still runs 30 s after stop"
    wait "$daemon_pid"
    rc=$?
    daemon_pid=""
    [[ $rc -eq 0 ]] || fail "stellad exited with $rc after a stop request"
    grep -q "stop request: stopping" "$dir/run.log" || fail "no 'stop request' in the log"
    expect_unreachable
    echo "ok: stopped on request (exit 0), status now unreachable"
    ;;
  service)
    "$WINE" "$STELLAD" service install --config "$wconfig" --name "$service" --manual || fail "service install"
    [[ $("$WINE" "$STELLAD" service status --name "$service" | tr -d '\r') == stopped ]] || fail "installed, not stopped"
    "$WINE" "$STELLAD" service start --name "$service" || fail "service start"
    wait_healthy || fail "the service did not answer status within 60 s"
    check_status
    echo "ok: the service runs, status answered over the named pipe"
    "$WINE" "$STELLAD" service stop --name "$service" || fail "service stop"
    expect_unreachable
    "$WINE" "$STELLAD" service uninstall --name "$service" || fail "service uninstall"
    [[ $("$WINE" "$STELLAD" service status --name "$service" | tr -d '\r') == "not installed" ]] ||
      fail "still installed after uninstall"
    echo "ok: stopped through the SCM, uninstalled"
    ;;
  *) fail "unknown mode $mode" ;;
esac
echo "PASS ($mode)"
