"""The checksummed messages of tests/capi/capi_messages.h, in Python: message (w, i) is
4 bytes w, 4 bytes i (little-endian), then (i * 37) % 251 payload bytes, each derived from
(w, i, position), so a torn, mixed or misdelivered message is caught byte by byte."""
import struct


def payload_byte(w: int, i: int, k: int) -> int:
    return (w * 131 + i * 7 + k * 13) & 0xFF


def make(w: int, i: int) -> bytes:
    n = (i * 37) % 251
    return struct.pack("<II", w, i) + bytes(payload_byte(w, i, k) for k in range(n))


def check(message: bytes):
    """(w, i) of a well-formed message; raises AssertionError otherwise."""
    assert len(message) >= 8, f"message of {len(message)} bytes"
    w, i = struct.unpack_from("<II", message)
    assert len(message) == 8 + (i * 37) % 251, f"message ({w}, {i}) has {len(message)} bytes"
    for k in range(len(message) - 8):
        assert message[8 + k] == payload_byte(w, i, k), f"message ({w}, {i}): byte {k} is wrong"
    return w, i
