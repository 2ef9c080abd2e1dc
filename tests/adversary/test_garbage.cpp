// Garbage in a blob segment (SharedMemory) and in the segment header, written by a hostile
// process while an honest writer and an honest reader run: nobody crashes, nobody hangs,
// nothing is read outside the segment, damage is reported as an error and never as a
// torn value. And a reader cannot write or truncate a blob at all.
//
// What a blob writer writes is, by design, the value readers get: a process with write
// access that scribbles a slot it is allowed to fill has published a value, not broken
// anything (docs/robustness.md, "Threat model"). So values that do not check out are
// counted and shown, and asserted to be absent only where the damage hits no field of a
// slot (the segment header, which every process has validated and copied at open).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "stella/common/blob.hpp"
#include "stella/common/segment.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

using stella::test::Child;
using stella::test::ReadyPipe;

namespace {

constexpr std::size_t kCapacity = 256;
constexpr std::uint64_t kArea = 128;  // the blob area starts after the 128-byte header

struct Outcome {
  int writer_exit = -1, reader_exit = -1, hostile_exit = -1;
  std::string writer, reader;
};

std::optional<std::uint64_t> number(const std::string& text, const std::string& key) {
  const auto v = stella::test::result_field(text, key);
  if (!v) return std::nullopt;
  return std::stoull(*v);
}

// A fresh blob; an honest writer and reader open it and say so; then `hostile_args` run.
Outcome trial(const std::string& name, const std::vector<std::string>& hostile_args) {
  stella::SharedMemory::remove(name);
  stella::SharedMemory creator(name, stella::SharedMemoryMode::Create, kCapacity);
  const std::string wout = stella::test::temp_path("adv-writer"), rout = stella::test::temp_path("adv-reader");
  ReadyPipe ready;
  stella::test::GoPipe damaged;  // closed once the hostile process is done
  const std::string rfd = std::to_string(ready.write_fd()), dfd = std::to_string(damaged.read_fd());
  Child writer(HONEST, {"blob-writer", name, "200", rfd, dfd}, wout);
  Child reader(HONEST, {"blob-reader", name, "2000", rfd, dfd}, rout);
  ready.close_write();
  (void)ready.read_line();
  (void)ready.read_line();
  Outcome o;
  {
    Child hostile(HOSTILE, hostile_args);
    o.hostile_exit = hostile.wait(std::chrono::seconds(60)).value_or(-1);
  }
  damaged.release();  // now the honest ones run their last 200 / 2000 operations
  // A hang is a wait that does not return: the helpers are killed at the deadline.
  o.writer_exit = writer.wait(std::chrono::seconds(120)).value_or(-1);
  o.reader_exit = reader.wait(std::chrono::seconds(120)).value_or(-1);
  o.writer = stella::test::read_file(wout);
  o.reader = stella::test::read_file(rout);
  ::unlink(wout.c_str());
  ::unlink(rout.c_str());
  return o;
}

void check_survived(const Outcome& o, const std::string& what, bool values_must_check_out) {
  INFO(what, "\n  writer: ", o.writer, "  reader: ", o.reader);
  CHECK(o.hostile_exit == 0);
  CHECK(o.writer_exit == 0);  // not killed by a signal, not hung
  CHECK(o.reader_exit == 0);
  CHECK(number(o.reader, "oversize") == std::optional<std::uint64_t>(0));  // never past the capacity
  if (values_must_check_out) CHECK(number(o.reader, "bad") == std::optional<std::uint64_t>(0));
}

}  // namespace

TEST_CASE("adversary: targeted garbage in every field of the header and the blob area") {
  const std::string name = stella::test::unique_name("adv-blob");
  stella::test::SegmentCleanup cleanup(name);
  const std::uint64_t object_size = kArea + stella::blob_area_size(kCapacity);
  struct Field {
    const char* what;
    std::uint64_t offset;
    unsigned width;
    bool slot_field;  // a field a writer fills for readers (see the top of this file)
  };
  const Field fields[] = {
      {"header.magic", 0, 8, false},           {"header.layout_version", 8, 4, false},
      {"header.kind", 12, 4, false},           {"header.total_size", 16, 8, false},
      {"header.area_offset", 24, 8, false},    {"header.area_size", 32, 8, false},
      {"header.params[capacity]", 40, 8, false}, {"header.params[stride]", 48, 8, false},
      {"header.checksum", 96, 8, false},       {"blob.published", kArea + 0, 8, true},
      {"blob.slot[0].sequence", kArea + 64, 8, true}, {"blob.slot[0].size", kArea + 72, 8, true},
      {"blob.slot[0].generation", kArea + 80, 8, true}, {"blob.slot[1].sequence", kArea + 128, 8, true},
      {"blob.slot[1].size", kArea + 136, 8, true}, {"blob.slot[1].generation", kArea + 144, 8, true},
      {"blob.slot[0].data", kArea + 192, 8, true},
  };
  const std::uint64_t values[] = {0,
                                  ~std::uint64_t{0},
                                  0x7fffffffull,
                                  stella::kBlobMaxCapacity,
                                  kCapacity + 1,
                                  object_size,
                                  object_size * 2,
                                  std::uint64_t{1} << 63};
  for (const Field& f : fields) {
    for (const std::uint64_t v : values) {
      const std::uint64_t value = f.width == 4 ? (v & 0xffffffffull) : v;
      const Outcome o = trial(name, {"write", name, std::to_string(f.offset), std::to_string(value),
                                     std::to_string(f.width)});
      check_survived(o, std::string(f.what) + " = " + std::to_string(value), !f.slot_field);
    }
  }
}

TEST_CASE("adversary: a few hundred random garbage trials over the whole blob segment") {
  const std::string name = stella::test::unique_name("adv-rand");
  stella::test::SegmentCleanup cleanup(name);
  const std::uint64_t object_size = kArea + stella::blob_area_size(kCapacity);
  constexpr int kTrials = 200;
  int bad_trials = 0;
  for (int t = 0; t < kTrials; ++t) {
    const Outcome o =
        trial(name, {"random", name, std::to_string(1000 + t), "4", "0", std::to_string(object_size)});
    check_survived(o, "random trial seed " + std::to_string(1000 + t), false);
    if (number(o.reader, "bad").value_or(0) > 0) ++bad_trials;
  }
  MESSAGE(bad_trials, " of ", kTrials, " random trials made the reader get a value the hostile writer forged");
}

TEST_CASE("adversary: a blob reader can neither write nor truncate the segment") {
  const std::string name = stella::test::unique_name("adv-ro");
  stella::test::SegmentCleanup cleanup(name);
  stella::SharedMemory creator(name, stella::SharedMemoryMode::Create, kCapacity);
  creator.write_bytes(std::vector<std::byte>(16, std::byte{7}));
  // The public API: a read-only SharedMemory refuses to write.
  stella::SharedMemory reader = stella::SharedMemory::open_read_only(name);
  CHECK_THROWS_AS(reader.write_bytes(std::vector<std::byte>(4)), stella::Error);
  // Below the API, with the descriptor a reader gets: every attempt fails in the kernel.
  const std::string out = stella::test::temp_path("adv-ro");
  Child attack(HOSTILE, {"reader-attack", name}, out);
  CHECK(attack.wait(std::chrono::seconds(60)) == std::optional<int>(0));
  const std::string text = stella::test::read_file(out);
  ::unlink(out.c_str());
  INFO(text);
  CHECK(stella::test::result_field(text, "write") == std::optional<std::string>("EBADF"));
  CHECK(stella::test::result_field(text, "truncate") == std::optional<std::string>("EINVAL"));
  CHECK(stella::test::result_field(text, "map_writable") == std::optional<std::string>("EACCES"));
  // And the value is intact.
  CHECK(reader.read_bytes() == std::vector<std::byte>(16, std::byte{7}));
}
