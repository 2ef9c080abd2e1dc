"""Stella: shared-memory rings and blobs between processes, from Python.

The same segments as Stella's C and C++ API (a Python reader reads what a C++ writer
writes, and the reverse), over libstella.so's C API (stella/stella.h):

- ``SharedMemory``: one value shared between processes.
- ``MultiWriterCircularBuffer``: writes messages into a ring (many writers, many processes).
- ``LockFreeBufferReader``: reads the ring with its own cursor.

Messages are ``bytes`` (any contiguous bytes-like object is accepted on the way in);
``write_json``/``read_json`` and ``write_msgpack``/``read_msgpack`` encode objects.
Timeouts are seconds (``None`` waits without limit, ``0`` does not wait). Waiting releases
the GIL and is cut into slices of ``SLICE_SECONDS``, so Ctrl-C interrupts a blocking read
with ``KeyboardInterrupt``. Failures raise ``StellaError`` subclasses carrying ``.code``
(an ``Errc``), ``.segment`` and the C API's message.
"""

from __future__ import annotations

import enum
import json as _json
from typing import Any, Iterator, Optional

from . import _native

__all__ = [
    "SharedMemory", "MultiWriterCircularBuffer", "LockFreeBufferReader", "PeekedMessage", "Claim",
    "Mode", "WriteBehavior", "StartPosition", "Errc", "StellaError", "version", "SLICE_SECONDS",
]

#: How long a wait runs without the interpreter checking for signals (Ctrl-C).
SLICE_SECONDS: float = _native.SLICE_SECONDS


def version() -> str:
    """The version of libstella.so ("MAJOR.MINOR.PATCH")."""
    return _native.version()


class Mode(enum.IntEnum):
    """How an open treats an existing name (stella::SharedMemoryMode)."""
    CREATE = 0          #: create; AlreadyExistsError if the name is taken
    OPEN = 1            #: open; NotFoundError if there is none
    OPEN_OR_CREATE = 2  #: open if it exists, else create


class WriteBehavior(enum.IntEnum):
    """What a ring writer does when the ring is full; fixed when the ring is created."""
    OVERWRITE = 0  #: never wait: overwrite the oldest messages
    BLOCK = 1      #: never overwrite what a live reader has not read: wait


class StartPosition(enum.IntEnum):
    """Where a new reader starts."""
    OLDEST = 0  #: the oldest message still in the ring
    LATEST = 1  #: only messages written after the reader opened


class Errc(enum.IntEnum):
    """The C API's status codes (stella.h's stella_status): 1..18 are stella::Errc + 1."""
    OK = 0
    INVALID_NAME = 1
    NOT_FOUND = 2
    ALREADY_EXISTS = 3
    TRUNCATED = 4
    BAD_MAGIC = 5
    VERSION_MISMATCH = 6
    WRONG_KIND = 7
    CORRUPT = 8
    NO_SPACE = 9
    PERMISSION_DENIED = 10
    VALUE_TOO_LARGE = 11
    EMPTY = 12
    SERIALIZATION = 13
    TIMEOUT = 14
    SLOTS_FULL = 15
    INVALID_ARGUMENT = 16
    IO = 17
    EVICTED = 18
    TYPE_MISMATCH = 19
    WOULD_BLOCK = 100
    BUFFER_TOO_SMALL = 101
    OVERWRITTEN = 102
    OUT_OF_MEMORY = 103
    INTERNAL = 104

    @property
    def label(self) -> str:
        """The stable short name, as stella_status_name() and stella::to_string() give it."""
        return _native.status_name(int(self))


# ---- errors ------------------------------------------------------------------------------

class StellaError(Exception):
    """A failure of Stella. ``code`` is an ``Errc``, ``segment`` the segment's name ("" if
    none) and ``str(error)`` the message, which names the segment."""

    def __init__(self, message: str, code: Errc = Errc.INTERNAL, segment: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.segment = segment

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidNameError(StellaError, ValueError): """The segment name breaks the rule (1-64 of [A-Za-z0-9._-])."""
class NotFoundError(StellaError, LookupError): """No segment of that name."""
class AlreadyExistsError(StellaError): """Mode.CREATE of a name that exists."""
class TruncatedError(StellaError): """The segment is smaller than its header says."""
class BadMagicError(StellaError): """Not a Stella segment."""
class VersionMismatchError(StellaError): """Written by another layout version."""
class WrongKindError(StellaError, TypeError): """A blob opened as a ring, or the reverse."""
class CorruptError(StellaError): """Inconsistent header or ring contents."""
class NoSpaceError(StellaError, MemoryError): """The memory could not be reserved (full /dev/shm)."""
class PermissionDeniedError(StellaError, PermissionError): """The OS refused, or a write through a read-only blob."""
class ValueTooLargeError(StellaError, ValueError): """A message or value larger than the segment allows."""
class SerializationError(StellaError, ValueError): """A message could not be encoded or decoded."""
class StellaTimeoutError(StellaError, TimeoutError): """A wait ended before data or space came."""
class SlotsFullError(StellaError): """Every reader (or writer) slot of the ring is taken."""
class InvalidArgumentError(StellaError, ValueError): """A parameter out of its range."""
class StellaIOError(StellaError, OSError): """Any other OS error."""
class BufferTooSmallError(StellaError, ValueError): """read_into(): the buffer is smaller than the message."""
class OutOfMemoryError(StellaError, MemoryError): """The process ran out of memory."""
class InternalError(StellaError): """An unexpected failure inside Stella (a bug: please report it)."""


_ERROR_CLASSES = {
    Errc.INVALID_NAME: InvalidNameError, Errc.NOT_FOUND: NotFoundError, Errc.ALREADY_EXISTS: AlreadyExistsError,
    Errc.TRUNCATED: TruncatedError, Errc.BAD_MAGIC: BadMagicError, Errc.VERSION_MISMATCH: VersionMismatchError,
    Errc.WRONG_KIND: WrongKindError, Errc.CORRUPT: CorruptError, Errc.NO_SPACE: NoSpaceError,
    Errc.PERMISSION_DENIED: PermissionDeniedError, Errc.VALUE_TOO_LARGE: ValueTooLargeError,
    Errc.SERIALIZATION: SerializationError, Errc.TIMEOUT: StellaTimeoutError, Errc.SLOTS_FULL: SlotsFullError,
    Errc.INVALID_ARGUMENT: InvalidArgumentError, Errc.IO: StellaIOError, Errc.BUFFER_TOO_SMALL: BufferTooSmallError,
    Errc.OUT_OF_MEMORY: OutOfMemoryError, Errc.INTERNAL: InternalError,
}
for _cls in set(_ERROR_CLASSES.values()):
    __all__.append(_cls.__name__)
del _cls


def _error_from_status(code: int, segment: str, message: str) -> StellaError:
    """Called by _native for every failure: the exception to raise."""
    try:
        errc = Errc(code)
    except ValueError:
        errc = Errc.INTERNAL
    return _ERROR_CLASSES.get(errc, StellaError)(message, errc, segment)


def _serialization_error(segment: str, what: str, cause: Exception) -> SerializationError:
    return SerializationError(f"stella: segment '{segment}': {what}: {cause}", Errc.SERIALIZATION, segment)


def _dump_json(obj: Any, segment: str) -> bytes:
    try:
        # Compact and UTF-8, as the C++ JsonSerializer (nlohmann::json::dump) writes it.
        return _json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as e:
        raise _serialization_error(segment, "cannot encode the value as JSON", e) from e


def _load_json(data: bytes, segment: str) -> Any:
    try:
        return _json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise _serialization_error(segment, "the message is not valid JSON", e) from e


def _msgpack():
    try:
        import msgpack  # Debian: python3-msgpack
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("stella's msgpack helpers need the msgpack module (Debian: apt install python3-msgpack)") from e
    return msgpack


def _dump_msgpack(obj: Any, segment: str) -> bytes:
    try:
        return _msgpack().packb(obj, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as e:
        raise _serialization_error(segment, "cannot encode the value as MessagePack", e) from e


def _load_msgpack(data: bytes, segment: str) -> Any:
    msgpack = _msgpack()
    try:
        return msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.UnpackException, msgpack.ExtraData) as e:
        raise _serialization_error(segment, "the message is not valid MessagePack", e) from e


def _seconds(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else float(seconds)


# ---- rings -------------------------------------------------------------------------------

class Claim:
    """A record reserved in the ring (zero copy): fill ``buffer`` (a writable memoryview of
    exactly the claimed size), then ``commit()`` or ``abort()``. As a context manager it
    commits on a normal exit and aborts on an exception. After either, ``buffer`` is
    released (using it raises ValueError)."""

    __slots__ = ("_writer", "buffer", "_done")

    def __init__(self, writer: "MultiWriterCircularBuffer", buffer: memoryview) -> None:
        self._writer = writer
        self.buffer = buffer
        self._done = False

    def commit(self) -> None:
        self._writer.commit()
        self._done = True

    def abort(self) -> None:
        self._writer.abort()
        self._done = True

    def __len__(self) -> int:
        return len(self.buffer)

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._done:
            return
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class MultiWriterCircularBuffer(_native.Writer):
    """A ring writer. ``capacity`` (bytes of record data, a power of two from 4096) and
    ``behavior`` apply when this call creates the ring; an opened ring keeps its own.

    >>> with MultiWriterCircularBuffer("MyLogBuffer", Mode.OPEN_OR_CREATE, 65536) as ring:
    ...     ring.write(b"hello")
    """

    def __init__(self, name: str, mode: Mode = Mode.OPEN_OR_CREATE, capacity: int = 0,
                 behavior: WriteBehavior = WriteBehavior.OVERWRITE, *, max_readers: int = 0, max_writers: int = 0,
                 spin_iterations: Optional[int] = None, recovery_timeout: Optional[float] = None,
                 permissions: int = 0, uid: int = -1, gid: int = -1) -> None:
        super().__init__(name, int(mode), capacity, int(behavior), max_readers, max_writers,
                         0xFFFFFFFF if spin_iterations is None else spin_iterations, recovery_timeout,
                         permissions, uid, gid)

    # write(data, timeout=None) -> bool and try_write(data) -> bool come from _native: True
    # when written; False when a Block ring had no space within the timeout (nothing written).

    @property
    def behavior(self) -> WriteBehavior:
        """The ring's own behaviour (fixed when it was created)."""
        return WriteBehavior(self._behavior)

    def claim(self, length: int, timeout: Optional[float] = None) -> Optional[Claim]:
        """Reserves a record of ``length`` bytes to fill in place; None if a Block ring had no
        space within ``timeout``. One claim at a time per writer; commit promptly."""
        buffer = self._claim(length, _seconds(timeout))
        return None if buffer is None else Claim(self, buffer)

    def try_claim(self, length: int) -> Optional[Claim]:
        return self.claim(length, 0)

    def write_json(self, obj: Any, timeout: Optional[float] = None) -> bool:
        """Writes ``obj`` as one compact UTF-8 JSON message (what the C++ JsonSerializer reads)."""
        return self.write(_dump_json(obj, self.name), timeout)

    def write_msgpack(self, obj: Any, timeout: Optional[float] = None) -> bool:
        """Writes ``obj`` as one MessagePack message (what the C++ MsgpackSerializer reads)."""
        return self.write(_dump_msgpack(obj, self.name), timeout)

    @staticmethod
    def remove(name: str) -> bool:
        """Removes the ring's name (open handles keep working); False if there was none."""
        return _native.ring_remove(name)

    def __enter__(self) -> "MultiWriterCircularBuffer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"capacity={self.capacity}, {self.behavior.name}"
        return f"<MultiWriterCircularBuffer '{self.name}' {state}>"


class PeekedMessage:
    """The next message in place (zero copy), from ``LockFreeBufferReader.peek()``.

    ``data`` is a read-only memoryview into the shared memory, valid until ``release()``
    (or the reader's next read, peek or close): then it is released, and using it raises
    ValueError. Copy what you keep (``bytes(msg.data)``). In Overwrite mode a writer may
    overwrite the message while you look: ``release()`` then returns False (and
    ``intact`` is False): discard what you read from it. As a context manager it releases
    on exit.
    """

    __slots__ = ("_reader", "data", "sequence", "intact")

    def __init__(self, reader: "LockFreeBufferReader", data: memoryview, sequence: int) -> None:
        self._reader = reader
        self.data = data
        self.sequence = sequence
        self.intact: Optional[bool] = None  # set by release()

    def release(self) -> bool:
        """Moves the reader past this message: True, or False if it was overwritten meanwhile."""
        if self.intact is None:
            self.intact = self._reader.release()
        return self.intact

    def __len__(self) -> int:
        return len(self.data)

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __enter__(self) -> "PeekedMessage":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class LockFreeBufferReader(_native.Reader):
    """A ring reader with its own cursor (it takes one of the ring's reader slots).

    ``read(timeout=None)`` returns the next message as ``bytes`` (None if none came within
    the timeout), ``try_read()`` never waits; iterating yields messages for ever (waiting for
    each), ``iter(timeout)`` until none comes within ``timeout``. A reader that was evicted
    (it stalled past the ring's limit) resumes at the oldest message by itself:
    ``messages_lost`` and ``evictions`` count what it missed.
    """

    def __init__(self, name: str, *, start: StartPosition = StartPosition.OLDEST,
                 spin_iterations: Optional[int] = None, recovery_timeout: Optional[float] = None) -> None:
        super().__init__(name, int(start), 0xFFFFFFFF if spin_iterations is None else spin_iterations,
                         recovery_timeout)

    def peek(self, timeout: Optional[float] = None) -> Optional[PeekedMessage]:
        """The next message in place without consuming it, or None if none came in time."""
        got = self._peek(_seconds(timeout))
        return None if got is None else PeekedMessage(self, got[0], got[1])

    def try_peek(self) -> Optional[PeekedMessage]:
        return self.peek(0)

    def iter(self, timeout: Optional[float] = None) -> Iterator[bytes]:
        """Yields messages until none comes within ``timeout`` (0: until the ring is empty;
        None: for ever)."""
        while True:
            message = self.read(timeout)
            if message is None:
                return
            yield message

    def __iter__(self) -> Iterator[bytes]:
        return self.iter(None)

    def read_json(self, timeout: Optional[float] = None) -> Any:
        """The next message decoded from JSON; None if none came in time. A message that is
        not JSON raises SerializationError (and is consumed, as in C++)."""
        message = self.read(timeout)
        return None if message is None else _load_json(message, self.name)

    def read_msgpack(self, timeout: Optional[float] = None) -> Any:
        """The next message decoded from MessagePack; None if none came in time."""
        message = self.read(timeout)
        return None if message is None else _load_msgpack(message, self.name)

    def __enter__(self) -> "LockFreeBufferReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"read={self.messages_read}, lost={self.messages_lost}"
        return f"<LockFreeBufferReader '{self.name}' {state}>"


# ---- blobs -------------------------------------------------------------------------------

class SharedMemory(_native.Blob):
    """One value shared between processes (stella::SharedMemory). Writers exclude each
    other; ``read()`` never waits and never returns a torn value (None: never written).

    ``capacity`` is the largest value (create and open-or-create; an existing blob must be
    at least this large). ``read_only=True`` maps it read-only (Mode.OPEN only). Closing
    only unmaps: the segment and its value live on until ``SharedMemory.remove(name)``.
    """

    def __init__(self, name: str, mode: Mode = Mode.OPEN_OR_CREATE, capacity: int = 0, *,
                 read_only: bool = False, permissions: int = 0, uid: int = -1, gid: int = -1) -> None:
        super().__init__(name, int(mode), capacity, read_only, permissions, uid, gid)

    def write_json(self, obj: Any) -> None:
        self.write(_dump_json(obj, self.name))

    def read_json(self) -> Any:
        value = self.read()
        return None if value is None else _load_json(value, self.name)

    def write_msgpack(self, obj: Any) -> None:
        self.write(_dump_msgpack(obj, self.name))

    def read_msgpack(self) -> Any:
        value = self.read()
        return None if value is None else _load_msgpack(value, self.name)

    @staticmethod
    def remove(name: str) -> bool:
        """Removes the blob's name (open handles keep working); False if there was none."""
        return _native.blob_remove(name)

    def __enter__(self) -> "SharedMemory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"capacity={self.capacity}, generation={self.generation}"
        return f"<SharedMemory '{self.name}' {state}>"
