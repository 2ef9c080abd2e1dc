// Catalogue: corrupted, truncated, wrong-kind and wrong-version segments, blob and ring
// (docs/robustness.md, "Segments"). Each case builds a real segment, damages it the way a
// stray writer, a crash or another program could, and opens it through the public API.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "robustness_util.hpp"
#include "stella/common/blob.hpp"
#include "stella/common/ring.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

using stella::Errc;
using stella::SharedMemoryMode;
using stella::robustness::expect_error;
using stella::robustness::RawSegment;

namespace {

std::string prefix(const std::string& name) { return "stella: segment '" + name + "': "; }

void open_blob(const std::string& name) { stella::SharedMemory shm(name, SharedMemoryMode::Open); }
void open_ring_writer(const std::string& name) { stella::MultiWriterCircularBuffer w(name, SharedMemoryMode::Open); }
void open_ring_reader(const std::string& name) { stella::LockFreeBufferReader r(name); }

// A fresh blob (capacity 100) and a fresh ring (capacity 4096), both cleaned up.
struct Fixture {
  std::string blob = stella::test::unique_name("rb-blob");
  std::string ring = stella::test::unique_name("rb-ring");
  stella::test::SegmentCleanup cleanup{std::vector<std::string>{blob, ring}};
  Fixture() {
    stella::SharedMemory b(blob, SharedMemoryMode::Create, 100);
    stella::MultiWriterCircularBuffer r(ring, SharedMemoryMode::Create, 4096);
  }
};

constexpr std::size_t kBlobTotal = 128 + 192 + 2 * 128;  // header + BlobArea + two 128-byte slots

}  // namespace

TEST_CASE("missing segment: not_found") {
  const std::string name = stella::test::unique_name("missing");
  const std::string what = prefix(name) + "no such segment (/stella." + name + " does not exist)";
  expect_error([&] { open_blob(name); }, Errc::not_found, what);
  expect_error([&] { open_ring_writer(name); }, Errc::not_found, what);
  expect_error([&] { open_ring_reader(name); }, Errc::not_found, what);
}

TEST_CASE("wrong kind: a ring opened as a blob and a blob opened as a ring") {
  Fixture f;
  expect_error([&] { open_blob(f.ring); }, Errc::wrong_kind, prefix(f.ring) + "is a ring segment, expected a blob");
  expect_error([&] { open_ring_writer(f.blob); }, Errc::wrong_kind,
               prefix(f.blob) + "is a blob segment, expected a ring");
  expect_error([&] { open_ring_reader(f.blob); }, Errc::wrong_kind,
               prefix(f.blob) + "is a blob segment, expected a ring");
}

TEST_CASE("wrong layout version: version_mismatch naming both versions") {
  Fixture f;
  for (const std::string& name : {f.blob, f.ring}) {
    RawSegment raw(name);
    raw.header().layout_version.store(7);
  }
  const std::string what = "layout version 7, this library reads version " + std::to_string(stella::kLayoutVersion);
  expect_error([&] { open_blob(f.blob); }, Errc::version_mismatch, prefix(f.blob) + what);
  expect_error([&] { open_ring_writer(f.ring); }, Errc::version_mismatch, prefix(f.ring) + what);
  expect_error([&] { open_ring_reader(f.ring); }, Errc::version_mismatch, prefix(f.ring) + what);
}

TEST_CASE("not a Stella segment: bad_magic") {
  Fixture f;
  for (const std::string& name : {f.blob, f.ring}) {
    RawSegment raw(name);
    std::memcpy(raw.data(), "GIF89a\0\0", 8);
  }
  expect_error([&] { open_blob(f.blob); }, Errc::bad_magic, prefix(f.blob) + "not a Stella segment (bad magic number)");
  expect_error([&] { open_ring_reader(f.ring); }, Errc::bad_magic,
               prefix(f.ring) + "not a Stella segment (bad magic number)");
}

TEST_CASE("corrupted header: a flipped bit anywhere in it fails the checksum") {
  Fixture f;
  for (const std::string& name : {f.blob, f.ring}) {
    RawSegment raw(name);
    raw.header().area_size ^= 0x10;  // one bit of a size field
  }
  expect_error([&] { open_blob(f.blob); }, Errc::corrupt, prefix(f.blob) + "corrupt header (checksum mismatch)");
  expect_error([&] { open_ring_writer(f.ring); }, Errc::corrupt, prefix(f.ring) + "corrupt header (checksum mismatch)");
}

TEST_CASE("corrupted header with a valid checksum: geometry checked anyway") {
  Fixture f;
  {
    RawSegment raw(f.blob);
    raw.header().area_offset = 1u << 30;  // area outside the segment
    raw.reseal();
  }
  expect_error([&] { open_blob(f.blob); }, Errc::corrupt, prefix(f.blob) + "corrupt header (area outside the segment)");
  {
    RawSegment raw(f.blob);
    raw.header().area_offset = 128;
    raw.header().params[stella::kBlobParamCapacity] = 0;
    raw.reseal();
  }
  expect_error([&] { open_blob(f.blob); }, Errc::corrupt,
               prefix(f.blob) + "corrupt blob header: capacity 0 is outside 1..1099511627776");
  {
    RawSegment raw(f.blob);
    raw.header().params[stella::kBlobParamCapacity] = 100;
    raw.header().params[stella::kBlobParamSlotStride] = 64;
    raw.reseal();
  }
  expect_error([&] { open_blob(f.blob); }, Errc::corrupt,
               prefix(f.blob) + "corrupt blob header: slot stride 64, expected 128 for capacity 100");
  {
    RawSegment raw(f.blob);
    raw.header().params[stella::kBlobParamCapacity] = 1000;  // more than the area holds
    raw.header().params[stella::kBlobParamSlotStride] = 1024;
    raw.reseal();
  }
  expect_error([&] { open_blob(f.blob); }, Errc::corrupt,
               prefix(f.blob) + "corrupt blob header: area of 448 bytes, a capacity of 1000 needs 2240");
}

TEST_CASE("truncated segments: shorter than the header says, or than the header itself") {
  Fixture f;
  RawSegment::resize(f.blob, kBlobTotal - 1);
  expect_error([&] { open_blob(f.blob); }, Errc::truncated,
               prefix(f.blob) + "truncated: header says 576 bytes, the file has 575");
  const std::uint64_t ring_total = 128 + stella::ring::area_size({4096, 32, 64, stella::ring::WriteBehavior::overwrite, {}});
  RawSegment::resize(f.ring, 4096);
  expect_error([&] { open_ring_reader(f.ring); }, Errc::truncated,
               prefix(f.ring) + "truncated: header says " + std::to_string(ring_total) + " bytes, the file has 4096");
  // Shorter than the header: open() first waits (500 ms) for a creator still writing it.
  RawSegment::resize(f.blob, 100);
  expect_error([&] { open_blob(f.blob); }, Errc::truncated,
               prefix(f.blob) + "truncated: 100 bytes, smaller than the 128-byte header");
  RawSegment::resize(f.ring, 0);
  expect_error([&] { open_ring_writer(f.ring); }, Errc::truncated,
               prefix(f.ring) + "truncated: 0 bytes, smaller than the 128-byte header");
}

TEST_CASE("a header never published (its creator died while creating it): corrupt after the wait") {
  Fixture f;
  {
    RawSegment raw(f.blob);
    raw.header().layout_version.store(0);
  }
  const auto start = std::chrono::steady_clock::now();
  expect_error([&] { open_blob(f.blob); }, Errc::corrupt,
               prefix(f.blob) +
                   "header never published (its creator died while creating it, or it is not a Stella segment)");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("corrupted blob contents: reads report corrupt, never read outside the segment") {
  Fixture f;
  {
    stella::SharedMemory shm(f.blob, SharedMemoryMode::Open);
    shm.write_bytes(std::vector<std::byte>(10, std::byte{3}));
  }
  stella::SharedMemory shm(f.blob, SharedMemoryMode::Open);
  RawSegment raw(f.blob);
  auto& area = *reinterpret_cast<stella::BlobArea*>(raw.data() + 128);
  const std::uint64_t published = area.control.published.load();
  auto& slot = area.slots[published & 1];

  SUBCASE("stored size larger than the capacity") {
    slot.size.store(1u << 20);
    expect_error([&] { (void)shm.read_bytes(); }, Errc::corrupt,
                 prefix(f.blob) + "corrupt blob: stored size 1048576 exceeds the capacity of 100 bytes");
  }
  SUBCASE("the published slot stuck mid-write (odd sequence): bounded retries, then corrupt") {
    slot.sequence.fetch_add(1);
    expect_error([&] { (void)shm.read_bytes(); }, Errc::corrupt,
                 prefix(f.blob) +
                     "corrupt blob: the published slot never holds a complete value (memory overwritten?)");
  }
  SUBCASE("the published slot holds another generation: bounded retries, then corrupt") {
    slot.generation.store(published + 5);
    expect_error([&] { (void)shm.read_bytes(); }, Errc::corrupt,
                 prefix(f.blob) +
                     "corrupt blob: the published slot never holds a complete value (memory overwritten?)");
  }
}

TEST_CASE("corrupted ring control block: corrupt naming what is inconsistent") {
  Fixture f;
  RawSegment raw(f.ring);
  auto& control = *reinterpret_cast<stella::ring::RingControl*>(raw.data() + 128);
  SUBCASE("capacity not a power of two") {
    control.capacity = 5000;
    expect_error([&] { open_ring_reader(f.ring); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: capacity 5000 is not a power of two >= 4096");
  }
  SUBCASE("max_message disagrees with the capacity") {
    control.max_message = 4096;
    expect_error([&] { open_ring_writer(f.ring); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: max_message does not match capacity");
  }
  SUBCASE("slot counts out of range") {
    control.max_readers = 0;
    expect_error([&] { open_ring_reader(f.ring); }, Errc::corrupt, prefix(f.ring) + "corrupt ring: slot counts out of range");
  }
  SUBCASE("unknown write behavior") {
    control.behavior = 9;
    expect_error([&] { open_ring_reader(f.ring); }, Errc::corrupt, prefix(f.ring) + "corrupt ring: unknown write behavior 9");
  }
  SUBCASE("offsets inconsistent with the sizes") {
    control.data_offset += 64;
    expect_error([&] { open_ring_reader(f.ring); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: slot or data offsets inconsistent with the sizes");
  }
  SUBCASE("control block disagrees with the (checksummed) segment header") {
    control.behavior = 1;  // Block, while the header says Overwrite
    expect_error([&] { open_ring_reader(f.ring); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: control block disagrees with the segment header");
  }
}

TEST_CASE("corrupted ring records: the reader reports corrupt instead of returning garbage") {
  Fixture f;
  stella::MultiWriterCircularBuffer w(f.ring, SharedMemoryMode::Open);
  stella::LockFreeBufferReader r(f.ring);
  const std::vector<std::byte> msg(40, std::byte{9});
  REQUIRE(w.write_bytes(msg) == stella::WriteResult::Ok);
  RawSegment raw(f.ring);
  auto& control = *reinterpret_cast<stella::ring::RingControl*>(raw.data() + 128);
  auto* first = reinterpret_cast<stella::ring::RecordHeader*>(raw.data() + 128 + control.data_offset);
  std::vector<std::byte> out;
  SUBCASE("unknown record type") {
    first->word.store(stella::ring::make_word(40, static_cast<stella::ring::RecordType>(9), 0));
    expect_error([&] { (void)r.try_read_bytes(out); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: a record header is inconsistent");
  }
  SUBCASE("a message longer than the largest message") {
    first->word.store(stella::ring::make_word(4000, stella::ring::RecordType::message, 0));
    expect_error([&] { (void)r.try_read_bytes(out); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: a record header is inconsistent");
  }
  SUBCASE("a padding record that would cross the end of the data") {
    first->word.store(stella::ring::make_word(8192, stella::ring::RecordType::padding, 0));
    expect_error([&] { (void)r.try_read_bytes(out); }, Errc::corrupt,
                 prefix(f.ring) + "corrupt ring: a record header is inconsistent");
  }
  SUBCASE("tail far ahead of anything written: the reader waits there, bounded, never returns garbage") {
    control.tail.store(std::uint64_t{1} << 50);
    CHECK_FALSE(r.try_read_bytes(out));
    CHECK(out.empty());
  }
}
