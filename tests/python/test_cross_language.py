"""Python and C++ processes on one ring, with the checksummed messages of tests/capi:
C++ writer processes -> a Python reader, a Python writer -> a C++ reader process, and
Python writer processes -> a Python reader, in Block and in Overwrite mode."""
import os
import subprocess
import textwrap

import messages
from stella import LockFreeBufferReader, Mode, MultiWriterCircularBuffer, WriteBehavior

COUNT = 3000
TIMEOUT = 30.0


def read_all(reader, expected_total, writers):
    """Reads expected_total messages; checks each one and the order per writer."""
    next_index = {w: 0 for w in writers}
    for _ in range(expected_total):
        message = reader.read(TIMEOUT)
        assert message is not None, f"no message within {TIMEOUT} s (next: {next_index})"
        w, i = messages.check(message)
        assert w in next_index, f"message from unknown writer {w}"
        assert i == next_index[w], f"writer {w}: got index {i}, expected {next_index[w]}"
        next_index[w] += 1
    return next_index


def finish(proc):
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}: {err}"


def test_cxx_writers_to_python_reader_block(names, cxx_peer):
    name = names()
    MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.BLOCK).close()
    with LockFreeBufferReader(name) as reader:  # registered first: the writers wait for it
        peers = [subprocess.Popen([cxx_peer, "write", name, str(w), str(COUNT)], stderr=subprocess.PIPE, text=True)
                 for w in (0, 1)]
        got = read_all(reader, 2 * COUNT, (0, 1))
        for p in peers:
            finish(p)
        assert got == {0: COUNT, 1: COUNT}
        assert reader.messages_lost == 0
        assert reader.try_read() is None


def test_cxx_writer_to_python_reader_overwrite(names, cxx_peer):
    name = names()
    MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.OVERWRITE).close()
    with LockFreeBufferReader(name) as reader:
        # The writer never waits: by the time it is done, most messages are overwritten.
        finish(subprocess.Popen([cxx_peer, "write", name, "0", str(COUNT)], stderr=subprocess.PIPE, text=True))
        indices = [messages.check(m)[1] for m in reader.iter(timeout=0)]
        assert indices, "nothing left to read"
        assert indices == sorted(set(indices)), "out of order or duplicated"
        assert indices[-1] == COUNT - 1, "the newest message is missing"
        assert len(indices) < COUNT and reader.messages_lost > 0
        assert len(indices) + reader.messages_lost == COUNT


def test_python_writer_to_cxx_reader(names, cxx_peer):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.BLOCK) as writer:
        ready_r, ready_w = os.pipe()
        peer = subprocess.Popen([cxx_peer, "read", name, str(COUNT), str(ready_w)], pass_fds=(ready_w,),
                                stderr=subprocess.PIPE, text=True)
        os.close(ready_w)
        with os.fdopen(ready_r) as ready:
            assert ready.readline() == "ready\n", "the C++ reader did not start"
        for i in range(COUNT):  # a 4 KiB Block ring: the writer waits for the C++ reader often
            assert writer.write(messages.make(0, i), timeout=TIMEOUT), f"write {i} timed out"
        finish(peer)  # it checked every message, in order, and that none was lost
        assert writer.messages_written == COUNT


WRITER_PROCESS = textwrap.dedent("""
    import sys
    import messages, stella
    name, w, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with stella.MultiWriterCircularBuffer(name, stella.Mode.OPEN) as ring:
        for i in range(count):
            assert ring.write(messages.make(w, i), timeout=30), "write timed out"
""")


def python_writer(python, name, w, count):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([python, "-c", WRITER_PROCESS, name, str(w), str(count)], env=env,
                            stderr=subprocess.PIPE, text=True)


def test_python_writer_processes_block(names, python):
    name = names()
    MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.BLOCK).close()
    with LockFreeBufferReader(name) as reader:
        writers = [python_writer(python, name, w, 1000) for w in (0, 1)]
        assert read_all(reader, 2000, (0, 1)) == {0: 1000, 1: 1000}
        for p in writers:
            finish(p)
        assert reader.messages_lost == 0


def test_python_writer_process_overwrite(names, python):
    name = names()
    MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.OVERWRITE).close()
    with LockFreeBufferReader(name) as reader:
        finish(python_writer(python, name, 0, 1000))
        indices = [messages.check(m)[1] for m in reader.iter(timeout=0)]
        assert indices == sorted(set(indices)) and indices[-1] == 999
        assert reader.messages_lost > 0 and len(indices) + reader.messages_lost == 1000
