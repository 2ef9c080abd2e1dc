// Fuzz target: opening and reading a blob segment whose bytes are arbitrary (issue 7).
//
// BlobSegment has no constructor over raw memory (it opens a named segment), so each
// input writes a segment file into /dev/shm and goes through the real open path:
// Segment::open (mapping, header validation), BlobSegment::open (blob parameters), then
// BlobSegment::read. The file is built from a valid blob image, then mutated by the input:
// header fields (capacity, slot stride, area offset and size, total size, kind, version),
// the file's own size, the published counter, the slots' sizes and the data.
//
// What must hold: open and read either succeed or throw stella::Error with an expected
// code; a successful read returns at most `capacity` bytes; an accepted header names an
// area that fits inside the file (checked here explicitly: the mapping is page-granular,
// so ASan cannot see a read past the file's end inside its last page; a read a page or
// more past it faults, which the fuzzer reports as a crash).
//
// Kept out on purpose: slot sequences are made even and each slot's generation equal to
// the published count. With anything else read() retries, by design, for ~2^20 rounds
// before it reports Errc::corrupt; that is correct but too slow to fuzz, and is covered
// by tests/robustness (blob: a slot stuck mid-write).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "stella/common/blob.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/shm.hpp"

namespace {

struct Fixture {
  std::string name = "fuzz-blob-" + std::to_string(::getpid());
  std::string os = stella::platform::MappedObject::os_name(name);
  int fd = -1;
  Fixture() {
    fd = ::shm_open(os.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
  }
  ~Fixture() {
    ::close(fd);
    ::shm_unlink(os.c_str());
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

bool expected_open_error(stella::Errc code) {
  switch (code) {
    case stella::Errc::truncated:
    case stella::Errc::bad_magic:
    case stella::Errc::version_mismatch:
    case stella::Errc::wrong_kind:
    case stella::Errc::corrupt: return true;
    default: return false;
  }
}

template <class T>
void put(std::vector<std::uint8_t>& file, std::size_t offset, T value) {
  if (offset + sizeof value <= file.size()) std::memcpy(file.data() + offset, &value, sizeof value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  Fixture& fx = fixture();

  // A valid image first.
  std::uint64_t capacity = in.ConsumeIntegralInRange<std::uint64_t>(1, 300);
  const std::uint64_t area_offset = sizeof(stella::SegmentHeader);
  std::uint64_t area_size = stella::blob_area_size(capacity);
  stella::SegmentHeader h{};
  h.magic = stella::kSegmentMagic;
  h.layout_version.store(stella::kLayoutVersion, std::memory_order_relaxed);
  h.kind = static_cast<std::uint32_t>(stella::SegmentKind::blob);
  h.area_offset = area_offset;
  h.area_size = area_size;
  h.total_size = area_offset + area_size;
  h.params[stella::kBlobParamCapacity] = capacity;
  h.params[stella::kBlobParamSlotStride] = stella::blob_slot_stride(capacity);

  // Header mutations (the checksum is recomputed unless the input says otherwise).
  const auto header_flags = in.ConsumeIntegral<std::uint8_t>();
  if (header_flags & 1) h.params[stella::kBlobParamCapacity] = in.ConsumeIntegral<std::uint64_t>() % 4096;
  if (header_flags & 2) h.params[stella::kBlobParamSlotStride] = in.ConsumeIntegral<std::uint64_t>() % 4096;
  if (header_flags & 4) h.area_offset = in.ConsumeIntegral<std::uint64_t>() % 512;
  if (header_flags & 8) h.area_size = in.ConsumeIntegral<std::uint64_t>() % 8192;
  if (header_flags & 16) h.total_size = in.ConsumeIntegral<std::uint64_t>() % 8192;
  if (header_flags & 32) h.kind = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
  if (header_flags & 64) {
    // Any version but 0: an unpublished header (0) makes open() wait for its creator.
    h.layout_version.store(in.ConsumeIntegralInRange<std::uint32_t>(1, 5), std::memory_order_relaxed);
  }
  h.checksum = stella::header_checksum(h);
  if (header_flags & 128) h.checksum ^= in.ConsumeIntegral<std::uint64_t>() | 1;

  // The file: its own size may disagree with the header.
  std::uint64_t file_size = sizeof(stella::SegmentHeader) + stella::blob_area_size(capacity);
  // Never below the header: open() takes a shorter file for a creator still writing the
  // header and waits for it (500 ms) before reporting it truncated; fuzz_segment_header
  // covers short files.
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
    file_size = in.ConsumeIntegralInRange<std::uint64_t>(sizeof(stella::SegmentHeader), 3 * 4096);
  }
  std::vector<std::uint8_t> file(file_size, 0);
  if (!file.empty()) std::memcpy(file.data(), &h, std::min<std::size_t>(sizeof h, file.size()));

  // Area contents, at the offset the (possibly mutated) header names, but never over the
  // header itself (a zeroed layout_version would make open() wait for a creator).
  const std::uint64_t area_at = std::max<std::uint64_t>(h.area_offset, sizeof(stella::SegmentHeader));
  const auto published = in.ConsumeIntegralInRange<std::uint64_t>(0, 5);
  put(file, area_at + offsetof(stella::BlobArea, control), published);
  for (std::size_t slot = 0; slot < stella::kBlobSlotCount; ++slot) {
    const std::size_t at = area_at + offsetof(stella::BlobArea, slots) + slot * sizeof(stella::BlobSlotHeader);
    put(file, at + offsetof(stella::BlobSlotHeader, sequence), in.ConsumeIntegralInRange<std::uint64_t>(0, 8) * 2);
    std::uint64_t value_size = in.ConsumeIntegralInRange<std::uint64_t>(0, capacity);
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0) value_size = in.ConsumeIntegral<std::uint64_t>();
    put(file, at + offsetof(stella::BlobSlotHeader, size), value_size);
    put(file, at + offsetof(stella::BlobSlotHeader, generation), published);
  }
  const std::vector<std::uint8_t> data = in.ConsumeRemainingBytes<std::uint8_t>();
  const std::size_t data_at = area_at + sizeof(stella::BlobArea);
  if (!data.empty() && data_at < file.size()) {
    std::memcpy(file.data() + data_at, data.data(), std::min(data.size(), file.size() - data_at));
  }

  if (::ftruncate(fx.fd, 0) != 0 || ::ftruncate(fx.fd, static_cast<off_t>(file.size())) != 0) std::abort();
  if (!file.empty() && ::pwrite(fx.fd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size())) {
    std::abort();
  }

  std::unique_ptr<stella::BlobSegment> blob;
  try {
    blob = stella::BlobSegment::open(fx.name, stella::platform::Access::read_only);
  } catch (const stella::Error& e) {
    if (!expected_open_error(e.code())) std::abort();
    return 0;
  }
  // Accepted: the area the header names, for the capacity it names, fits in the file.
  stella::SegmentHeader accepted;
  std::memcpy(static_cast<void*>(&accepted), file.data(), sizeof accepted);
  if (accepted.area_offset + stella::blob_area_size(blob->capacity()) > file.size()) std::abort();
  try {
    std::vector<std::byte> out;
    if (blob->read(out)) {
      if (out.size() > blob->capacity()) std::abort();
    }
  } catch (const stella::Error& e) {
    if (e.code() != stella::Errc::corrupt) std::abort();
  }
  return 0;
}
