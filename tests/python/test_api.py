"""The Pythonic API: context managers, bytes in and out, iteration, zero-copy peek and
claim (and their misuse after release), JSON and msgpack, SharedMemory, and errors that
carry their Errc and segment."""
import array
import gc
import os
import threading
import time

import pytest

import stella
from stella import Errc, LockFreeBufferReader, Mode, MultiWriterCircularBuffer, SharedMemory, WriteBehavior


def test_bytes_in_and_out(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        assert w.write(b"bytes") and w.write(bytearray(b"bytearray")) and w.write(memoryview(b"xmemoryview")[1:])
        assert w.try_write(array.array("B", [1, 2, 3])) and w.write(b"")
        assert [r.read(), r.read(), r.read(), r.read(), r.read()] == [b"bytes", b"bytearray", b"memoryview",
                                                                      b"\x01\x02\x03", b""]
        assert r.try_read() is None and r.read(timeout=0.05) is None
        assert (w.messages_written, r.messages_read, r.messages_lost) == (5, 5, 0)
        with pytest.raises(TypeError):
            w.write("a str is not bytes")


def test_large_messages_and_read_into(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 1 << 20) as w, LockFreeBufferReader(name) as r:
        big = bytes(range(256)) * 2000  # larger than the reader's first buffer
        w.write(big)
        assert r.read() == big
        w.write(b"0123456789")
        small = bytearray(4)
        with pytest.raises(stella.BufferTooSmallError) as e:
            r.read_into(small)
        assert e.value.code == Errc.BUFFER_TOO_SMALL and "10 bytes" in str(e.value)
        out = bytearray(64)
        assert r.read_into(out) == 10 and out[:10] == b"0123456789"  # it stayed next
        assert r.read_into(out, timeout=0) is None


def test_iteration(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        for i in range(10):
            w.write(b"%d" % i)
        assert list(r.iter(timeout=0)) == [b"%d" % i for i in range(10)]
        w.write(b"last")
        for message in r:  # for ever, until break
            assert message == b"last"
            break


def test_context_managers_close(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w:
        with LockFreeBufferReader(name) as r:
            pass
        assert r.closed
        with pytest.raises(ValueError, match="is closed"):
            r.read()
    assert w.closed
    with pytest.raises(ValueError, match=f"writer '{name}' is closed"):
        w.write(b"x")
    w.close()  # twice is fine


def test_start_latest_and_behavior(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.BLOCK) as w:
        assert w.behavior == WriteBehavior.BLOCK and w.capacity == 4096 and 0 < w.max_message_size < 4096 // 2
        w.write(b"old")
        with LockFreeBufferReader(name, start=stella.StartPosition.LATEST) as r:
            assert r.try_read() is None
            w.write(b"new")
            assert r.read() == b"new"
        with MultiWriterCircularBuffer(name, Mode.OPEN, 0, WriteBehavior.OVERWRITE) as w2:
            assert w2.behavior == WriteBehavior.BLOCK  # the ring keeps its own


def test_block_write_timeout(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096, WriteBehavior.BLOCK) as w, LockFreeBufferReader(name):
        message = bytes(1000)
        written = 0
        while w.try_write(message):
            written += 1
        assert written >= 2
        assert w.write(message, timeout=0.05) is False  # full, nobody reads: nothing written
        assert w.messages_written == written


def test_peek_zero_copy_and_misuse(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        assert r.try_peek() is None
        w.write(b"first")
        w.write(b"second")
        msg = r.peek(timeout=1)
        data = msg.data
        assert isinstance(data, memoryview) and data.readonly and bytes(data) == b"first" and len(msg) == 5
        with pytest.raises(TypeError):
            data[0] = 0  # read-only
        assert r.peek(0).data == b"first"  # a new peek sees it again; the old memoryview is released
        with pytest.raises(ValueError):
            data[0]
        msg = r.try_peek()
        part = msg.data[1:3]  # a slice points into the ring too
        with pytest.raises(BufferError, match="still alive"):
            msg.release()
        assert r.peeking  # nothing changed: still peeked
        del part
        with msg:
            pass  # releases on exit
        assert msg.intact is True
        with pytest.raises(ValueError):
            msg.data.tobytes()  # released: no access to the ring's memory any more
        with pytest.raises(ValueError, match="no peeked message"):
            r.release()
        assert r.read() == b"second" and r.messages_read == 2
        w.write(b"third")
        keep = r.peek().data[:]
        with pytest.raises(BufferError):
            r.close()  # would unmap what `keep` points to
        assert not r.closed
        del keep
        r.close()


def test_reader_dropped_while_a_slice_lives_keeps_the_memory(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w:
        w.write(b"kept")
        r = LockFreeBufferReader(name)
        part = r.peek().data[0:4]
        del r  # not closed (the slice still points into its mapping): the memory stays valid
        assert bytes(part) == b"kept"


def test_claim(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        with w.claim(5) as c:
            assert len(c) == 5 and not c.buffer.readonly
            c.buffer[:] = b"hello"
        with pytest.raises(RuntimeError):
            with w.try_claim(3) as c:
                c.buffer[:] = b"bye"
                raise RuntimeError("aborts the claim")
        with pytest.raises(ValueError):
            c.buffer[0] = 1  # released at abort
        assert r.read() == b"hello" and r.try_read() is None
        c = w.claim(2)
        with pytest.raises(ValueError, match="pending claim"):
            w.claim(2)
        c.abort()
        with pytest.raises(ValueError, match="no pending claim"):
            w.commit()


def test_json_and_msgpack(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        entry = {"LogLevel": "Info", "Text": "Application starting.", "n": [1, 2.5, None, True]}
        w.write_json(entry)
        w.write_msgpack(entry)
        w.write(b"not json")
        assert r.read_json() == entry
        assert r.read_msgpack() == entry
        with pytest.raises(stella.SerializationError) as e:
            r.read_json()
        assert e.value.code == Errc.SERIALIZATION and e.value.segment == name and name in str(e.value)
        with pytest.raises(stella.SerializationError):
            w.write_json(object())
        assert r.read_json(timeout=0) is None


def test_shared_memory(names):
    name = names()
    with SharedMemory(name, Mode.CREATE, 1024) as shm:
        assert shm.read() is None and shm.generation == 0 and shm.capacity == 1024
        shm.write(b"value")
        assert shm.read() == b"value" and shm.generation == 1
        shm.write_json({"Message": "Hello from Process A", "Value": 42})
        with SharedMemory(name, Mode.OPEN, read_only=True) as ro:
            assert ro.read_only and ro.read_json() == {"Message": "Hello from Process A", "Value": 42}
            with pytest.raises(stella.PermissionDeniedError) as e:
                ro.write(b"x")
            assert e.value.code == Errc.PERMISSION_DENIED and isinstance(e.value, PermissionError)
        assert shm.try_write(b"y") is True
        shm.write_msgpack([1, "two"])
        assert shm.read_msgpack() == [1, "two"]
        with pytest.raises(stella.ValueTooLargeError) as e:
            shm.write(bytes(1025))
        assert e.value.code == Errc.VALUE_TOO_LARGE and e.value.segment == name
    assert SharedMemory.remove(name) is True and SharedMemory.remove(name) is False


@pytest.mark.parametrize("case", ["not_found", "already_exists", "invalid_name", "wrong_kind", "capacity",
                                  "too_large", "slots_full"])
def test_errors_carry_code_and_segment(names, case):
    name = names()
    expected = {"not_found": (stella.NotFoundError, Errc.NOT_FOUND),
                "already_exists": (stella.AlreadyExistsError, Errc.ALREADY_EXISTS),
                "invalid_name": (stella.InvalidNameError, Errc.INVALID_NAME),
                "wrong_kind": (stella.WrongKindError, Errc.WRONG_KIND),
                "capacity": (stella.InvalidArgumentError, Errc.INVALID_ARGUMENT),
                "too_large": (stella.ValueTooLargeError, Errc.VALUE_TOO_LARGE),
                "slots_full": (stella.SlotsFullError, Errc.SLOTS_FULL)}[case]
    keep = []
    if case == "invalid_name":
        name = "no/slash"
    if case in ("already_exists", "too_large", "slots_full"):
        keep.append(MultiWriterCircularBuffer(name, Mode.CREATE, 4096, max_readers=1))
    if case == "wrong_kind":
        keep.append(SharedMemory(name, Mode.CREATE, 64))
    with pytest.raises(stella.StellaError) as e:
        if case in ("not_found", "wrong_kind"):
            LockFreeBufferReader(name)
        elif case in ("already_exists", "invalid_name"):
            MultiWriterCircularBuffer(name, Mode.CREATE, 4096)
        elif case == "capacity":
            MultiWriterCircularBuffer(name, Mode.CREATE, 5000)  # not a power of two
        elif case == "too_large":
            keep[0].write(bytes(keep[0].max_message_size + 1))
        elif case == "slots_full":
            keep.append(LockFreeBufferReader(name))
            LockFreeBufferReader(name)
    err = e.value
    assert type(err) is expected[0] and err.code is expected[1]
    assert err.segment == name and f"segment '{name}'" in str(err) and err.message == str(err)
    if case not in ("capacity", "too_large"):
        assert err.code.label == case  # the C API's (and stella::to_string's) name
    for k in keep:
        k.close()


def test_one_handle_two_threads_is_refused(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        started = threading.Event()
        result = []

        def wait_in_read():
            started.set()
            result.append(r.read(timeout=10))

        t = threading.Thread(target=wait_in_read)
        t.start()
        started.wait()
        # The reader thread is in read() (or about to be); a second call on the same handle
        # is refused rather than racing it. Until it is refused, the other thread holds it.
        deadline = time.monotonic() + 10
        while True:
            try:
                assert r.try_read() is None
            except RuntimeError as e:
                assert "in use by another thread" in str(e)
                break
            assert time.monotonic() < deadline, "the reader thread never entered read()"
            time.sleep(0.001)  # lets the reader thread take the GIL
        w.write(b"wake")  # the GIL is free while the reader waits, so this runs
        t.join(10)
        assert result == [b"wake"]


def test_bad_timeouts(names):
    name = names()
    with pytest.raises(stella.InvalidArgumentError, match="recovery_timeout"):
        MultiWriterCircularBuffer(name, Mode.CREATE, 4096, recovery_timeout=0)
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096) as w, LockFreeBufferReader(name) as r:
        with pytest.raises(ValueError, match="NaN"):
            r.read(float("nan"))
        assert r.read(0.0) is None
        with pytest.raises(stella.InvalidArgumentError, match="recovery_timeout"):
            LockFreeBufferReader(name, recovery_timeout=float("inf"))


def test_version():
    assert stella.version().count(".") == 2


def test_handles_are_not_inherited_across_fork(names):
    name = names()
    with MultiWriterCircularBuffer(name, Mode.CREATE, 4096, max_readers=1) as w, LockFreeBufferReader(name) as r, \
            SharedMemory(names(), Mode.CREATE, 64) as shm:
        w.write(b"for the parent")
        pid = os.fork()
        if pid == 0:  # the child: every inherited handle refuses, and dropping them frees nothing
            code = 0
            for call in (r.try_read, lambda: w.write(b"x"), shm.read):
                try:
                    call()
                    code |= 1
                except stella.InvalidArgumentError as e:
                    code |= 0 if "opened before fork()" in str(e) and e.segment in (name, shm.name) else 2
            r.close()
            w.close()
            del r, w
            gc.collect()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert r.try_read() == b"for the parent"  # the parent's reader kept its slot and cursor
        with pytest.raises(stella.SlotsFullError):
            LockFreeBufferReader(name)  # max_readers=1: the child's close did not free the slot
