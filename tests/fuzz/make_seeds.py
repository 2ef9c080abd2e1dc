#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpora (the rest of each corpus was found by
the fuzzers and minimised with -merge=1). Run from anywhere; rewrites only seed-* files."""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAGIC = 0x6D5E414C4C455453
VERSION = 1
BLOB, RING = 1, 2


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def header(kind, area_size, params, version=VERSION, area_offset=128, total=None, good_checksum=True):
    total = area_offset + area_size if total is None else total
    body = struct.pack("<QIIQQQ4QQQQ", MAGIC, version, kind, total, area_offset, area_size, *params, 1234, 5678, 42)
    hashed = bytearray(body)
    hashed[8:12] = b"\0\0\0\0"  # layout_version counts as 0
    checksum = fnv1a(bytes(hashed))
    if not good_checksum:
        checksum ^= 1
    return body + struct.pack("<Q", checksum) + bytes(24)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def blob_area(capacity):
    stride = (capacity + 63) // 64 * 64
    return 192 + 2 * stride, stride


# fuzz_segment_header: byte 0 is the mode (0 = the file as given), then the file.
area, stride = blob_area(100)
blob = header(BLOB, area, [100, stride, 0, 0])
ring_area = 512 + 32 * 128 + 64 * 64 + 4096
ring = header(RING, ring_area, [4096, 32, 64, 0])
write("fuzz_segment_header", "blob-valid", b"\0" + blob + bytes(area))
write("fuzz_segment_header", "ring-valid", b"\0" + ring + bytes(ring_area))
write("fuzz_segment_header", "blob-truncated", b"\0" + blob + bytes(area // 2))
write("fuzz_segment_header", "header-only", b"\0" + blob)
write("fuzz_segment_header", "short", b"\0" + blob[:64])
write("fuzz_segment_header", "bad-checksum", b"\0" + header(BLOB, area, [100, stride, 0, 0], good_checksum=False) + bytes(area))
write("fuzz_segment_header", "version-2", b"\0" + header(BLOB, area, [100, stride, 0, 0], version=2) + bytes(area))
write("fuzz_segment_header", "unpublished", b"\0" + header(BLOB, area, [100, stride, 0, 0], version=0) + bytes(area))
write("fuzz_segment_header", "area-outside", b"\0" + header(BLOB, 1 << 40, [100, stride, 0, 0], total=4096) + bytes(4096))
write("fuzz_segment_header", "patched-ring", b"\x07" + ring + bytes(64))

# fuzz_config: the example and the whole bad-config catalogue.
cfg = os.path.join(ROOT, "config")
os.makedirs(os.path.join(HERE, "corpus", "fuzz_config"), exist_ok=True)
shutil.copyfile(os.path.join(cfg, "stella.example.toml"), os.path.join(HERE, "corpus", "fuzz_config", "seed-example.toml"))
for name in sorted(os.listdir(os.path.join(cfg, "bad"))):
    shutil.copyfile(os.path.join(cfg, "bad", name), os.path.join(HERE, "corpus", "fuzz_config", "seed-bad-" + name))
