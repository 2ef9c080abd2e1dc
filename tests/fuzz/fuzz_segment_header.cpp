// Fuzz target: segment-header validation over arbitrary bytes (issue 7).
//
// Segment::validate is what Segment::open runs on the bytes of a mapped file; whatever
// those bytes are, it must either accept them or throw stella::Error with a known code,
// and it must never read past `size` (the buffer below is exactly `size` bytes, so ASan
// reports any over-read).
//
// Input: byte 0 chooses a mode, the rest is the "file".
//   mode & 3 == 0: the file is the raw bytes as given.
//   otherwise:     the bytes are patched into a plausible header (magic, layout version,
//                  and for mode & 3 == 2 also a correct checksum; mode & 3 == 3 also a
//                  kind chosen by bit 2), so the fuzzer gets past the cheap checks to the
//                  size and geometry checks behind them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "stella/common/error.hpp"
#include "stella/common/segment.hpp"

namespace {

bool known_code(stella::Errc code) {
  switch (code) {
    case stella::Errc::truncated:
    case stella::Errc::bad_magic:
    case stella::Errc::version_mismatch:
    case stella::Errc::wrong_kind:
    case stella::Errc::corrupt: return true;
    default: return false;
  }
}

void check(const std::vector<unsigned char>& file, stella::SegmentKind kind) {
  try {
    stella::Segment::validate("fuzz", file.data(), file.size(), kind);
    // Accepted: then the header must really describe a segment that fits the file.
    stella::SegmentHeader h;
    std::memcpy(static_cast<void*>(&h), file.data(), sizeof h);
    if (h.total_size > file.size() || h.area_offset < sizeof(stella::SegmentHeader) ||
        h.area_offset > h.total_size || h.area_size > h.total_size - h.area_offset ||
        h.kind != static_cast<std::uint32_t>(kind)) {
      std::abort();  // validate accepted a header whose area lies outside the file
    }
  } catch (const stella::Error& e) {
    if (!known_code(e.code()) || e.segment() != "fuzz") std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0];
  std::vector<unsigned char> file(data + 1, data + size);
  if ((mode & 3) != 0 && file.size() >= sizeof(stella::SegmentHeader)) {
    stella::SegmentHeader h;
    std::memcpy(static_cast<void*>(&h), file.data(), sizeof h);
    h.magic = stella::kSegmentMagic;
    h.layout_version.store(stella::kLayoutVersion, std::memory_order_relaxed);
    if ((mode & 3) == 3) {
      h.kind = static_cast<std::uint32_t>((mode & 4) != 0 ? stella::SegmentKind::ring : stella::SegmentKind::blob);
    }
    if ((mode & 3) >= 2) h.checksum = stella::header_checksum(h);
    std::memcpy(file.data(), static_cast<const void*>(&h), sizeof h);
  }
  check(file, stella::SegmentKind::blob);
  check(file, stella::SegmentKind::ring);
  return 0;
}
