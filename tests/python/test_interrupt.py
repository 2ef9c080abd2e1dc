"""Ctrl-C during a blocking call: a child Python process blocks in read() (no timeout), or
in write() on a full Block ring, the test sends it SIGINT once it sleeps in the futex wait,
and the call must end with KeyboardInterrupt within a few wait slices (stella.SLICE_SECONDS)."""
import os
import signal
import subprocess
import textwrap
import time

import pytest

import stella
from stella import LockFreeBufferReader, Mode, MultiWriterCircularBuffer, WriteBehavior

BLOCKED = {
    "read": textwrap.dedent("""
        import sys, stella
        with stella.LockFreeBufferReader(sys.argv[1]) as ring:
            print("ready", flush=True)
            try:
                got = ring.read()  # no timeout: nothing is ever written
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(0)
            print("read returned", got, flush=True)
            sys.exit(1)
    """),
    "write": textwrap.dedent("""
        import sys, stella
        with stella.MultiWriterCircularBuffer(sys.argv[1], stella.Mode.OPEN) as ring:
            while ring.try_write(bytes(1000)):
                pass  # fill the Block ring: its reader never reads
            print("ready", flush=True)
            try:
                got = ring.write(bytes(1000))  # no timeout
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(0)
            print("write returned", got, flush=True)
            sys.exit(1)
    """),
}

SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(os.uname().machine)


def in_futex_wait(pid):
    """True while the process's main thread sleeps in futex() (/proc/PID/syscall)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except PermissionError:
        pytest.skip("/proc/PID/syscall is not readable here (needs ptrace access to the child)")
    except OSError:
        return False
    return bool(fields) and fields[0] == str(SYS_FUTEX)


@pytest.mark.skipif(SYS_FUTEX is None or not os.path.exists("/proc/self/syscall"),
                    reason="needs /proc/PID/syscall on x86_64 or aarch64")
@pytest.mark.parametrize("call", ["read", "write"])
def test_sigint_interrupts_a_blocking_call(names, python, call):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.BLOCK), LockFreeBufferReader(name):
        child = subprocess.Popen([python, "-c", BLOCKED[call], name], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline() == "ready\n"
            # Wait (polling the kernel's view, not guessing a delay) until the child sleeps in the
            # ring's futex: then the signal lands inside the call, not before it.
            deadline = time.monotonic() + 20
            while not in_futex_wait(child.pid):
                assert child.poll() is None, child.stderr.read()
                assert time.monotonic() < deadline, f"the child never blocked in {call}()"
                time.sleep(0.01)
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=10)
            latency = time.monotonic() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == 0 and out == "interrupted\n", f"rc {child.returncode}, out {out!r}, err {err!r}"
        assert latency < 5 * stella.SLICE_SECONDS + 1.0, f"KeyboardInterrupt came {latency:.2f} s after SIGINT"
