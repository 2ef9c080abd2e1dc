"""Ctrl-C during a blocking read: a child Python process blocks in read() (no timeout),
the test sends it SIGINT once it sleeps in the futex wait, and the read must end with
KeyboardInterrupt within a few wait slices (stella.SLICE_SECONDS)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import stella
from stella import Mode, MultiWriterCircularBuffer

BLOCKED_READER = textwrap.dedent("""
    import sys, time, stella
    with stella.LockFreeBufferReader(sys.argv[1]) as reader:
        print("ready", flush=True)
        try:
            message = reader.read()  # no timeout
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("read returned", message, flush=True)
        sys.exit(1)
""")

SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(os.uname().machine)


def in_futex_wait(pid):
    """True while the process's main thread sleeps in futex() (/proc/PID/syscall)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return False
    return bool(fields) and fields[0] == str(SYS_FUTEX)


@pytest.mark.skipif(SYS_FUTEX is None or not os.path.exists("/proc/self/syscall"),
                    reason="needs /proc/PID/syscall on x86_64 or aarch64")
def test_sigint_interrupts_a_blocking_read(names, python):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096):
        child = subprocess.Popen([python, "-c", BLOCKED_READER, name], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline() == "ready\n"
            # Wait (polling the kernel's view, not guessing a delay) until the child sleeps in the
            # reader's futex: then the signal lands inside read(), not before it.
            deadline = time.monotonic() + 20
            while not in_futex_wait(child.pid):
                assert child.poll() is None, child.stderr.read()
                assert time.monotonic() < deadline, "the child never blocked in read()"
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
