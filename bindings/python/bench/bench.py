#!/usr/bin/env python3
"""What a message costs from Python compared with C++ (README, "Python").

    PYTHONPATH=build/release/bindings/python /usr/bin/python3 bindings/python/bench/bench.py \
        --cxx build/release/bindings/python/stella_py_bench_cxx

1. One process, a 1 MiB Overwrite ring, SIZE-byte messages: ns per write() and per
   try_read() (and peek()+release(), read_into()) in Python; the same loop in C++.
2. Two processes, a 1 MiB Block ring: messages per second from writer to reader, for
   C++ -> C++, Python -> Python, C++ -> Python and Python -> C++ (timed by the reader, from
   its first message to its last).
"""
import argparse
import os
import subprocess
import sys
import time

import stella
from stella import LockFreeBufferReader, Mode, MultiWriterCircularBuffer, WriteBehavior

CAPACITY = 1 << 20


def ring(name, behavior):
    MultiWriterCircularBuffer.remove(name)
    MultiWriterCircularBuffer(name, Mode.CREATE, CAPACITY, behavior).close()


def local_python(name, size, count):
    ring(name, WriteBehavior.OVERWRITE)
    msg = bytes(size)
    out = bytearray(size)
    with MultiWriterCircularBuffer(name, Mode.OPEN) as w, LockFreeBufferReader(name) as r:
        batch = CAPACITY // 2 // (size + 16)
        rounds = max(1, count // batch)
        t = {"write": 0.0, "try_read": 0.0, "read_into": 0.0, "peek+release": 0.0}
        write, try_read, read_into, peek = w.write, r.try_read, r.read_into, r.try_peek
        for _ in range(rounds):
            for key, fill in (("try_read", True), ("read_into", True), ("peek+release", True)):
                t0 = time.perf_counter()
                for _ in range(batch):
                    write(msg)
                t["write"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                if key == "try_read":
                    for _ in range(batch):
                        try_read()
                elif key == "read_into":
                    for _ in range(batch):
                        read_into(out, 0)
                else:
                    for _ in range(batch):
                        peek().release()
                t[key] += time.perf_counter() - t0
        n = rounds * batch
        return {"write": t["write"] / (3 * n) * 1e9, **{k: v / n * 1e9 for k, v in t.items() if k != "write"}}


def local_cxx(cxx, name, size, count):
    ring(name, WriteBehavior.OVERWRITE)
    out = subprocess.run([cxx, "local", name, str(size), str(count)], check=True, capture_output=True, text=True)
    return dict((k, float(v)) for k, v in (f.split("=") for f in out.stdout.split()))


def py_role(args):
    """The Python writer or reader process of the two-process runs."""
    if args.role == "write":
        msg = bytes(args.size)
        with MultiWriterCircularBuffer(args.name, Mode.OPEN) as w:
            for _ in range(args.count):
                w.write(msg, 30)
        return 0
    with LockFreeBufferReader(args.name) as r:
        print("ready", flush=True)
        read = r.read
        read(30)
        t0 = time.perf_counter()
        for _ in range(args.count - 1):
            read(30)
        print(f"seconds={time.perf_counter() - t0:.6f}", flush=True)
    return 0


def two_processes(cxx, name, size, count, writer, reader):
    ring(name, WriteBehavior.BLOCK)
    me = [sys.executable, os.path.abspath(__file__)]
    rd = subprocess.Popen((me + ["--role", "read", "--name", name, "--count", str(count)]) if reader == "python"
                          else [cxx, "read", name, str(count)], stdout=subprocess.PIPE, text=True)
    assert rd.stdout.readline() == "ready\n"
    wr = subprocess.Popen((me + ["--role", "write", "--name", name, "--size", str(size), "--count", str(count)])
                          if writer == "python" else [cxx, "write", name, str(size), str(count)])
    out, _ = rd.communicate(timeout=600)
    assert wr.wait(timeout=60) == 0 and rd.returncode == 0
    return (count - 1) / float(out.split("=")[1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cxx", help="stella_py_bench_cxx (built next to the stella module)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--name", default=f"pybench.{os.getpid()}")
    p.add_argument("--role", choices=["write", "read"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.role:
        return py_role(args)
    if not args.cxx:
        p.error("--cxx is required")
    try:
        print(f"stella {stella.version()}, Python {sys.version.split()[0]}, {args.size}-byte messages")
        py = local_python(args.name, args.size, args.count)
        cx = local_cxx(args.cxx, args.name, args.size, args.count)
        print("\none process, ns per call (Python / C++):")
        print(f"  write       {py['write']:7.0f} / {cx['write_ns']:5.0f}")
        print(f"  try_read    {py['try_read']:7.0f} / {cx['try_read_ns']:5.0f}")
        print(f"  read_into   {py['read_into']:7.0f}")
        print(f"  peek+release{py['peek+release']:7.0f}")
        print("\ntwo processes, Block ring, messages per second (writer -> reader):")
        for w, r in (("c++", "c++"), ("python", "python"), ("c++", "python"), ("python", "c++")):
            rate = two_processes(args.cxx, args.name, args.size, args.count, w, r)
            print(f"  {w:6} -> {r:6}  {rate / 1e6:6.2f} M/s  ({1e9 / rate:5.0f} ns per message)")
    finally:
        MultiWriterCircularBuffer.remove(args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
