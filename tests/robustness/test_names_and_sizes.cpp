// Catalogue: bad names and oversize values (docs/robustness.md, "Names" and "Sizes").
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "robustness_util.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

using stella::Errc;
using stella::robustness::expect_error;

namespace {

struct BadName {
  std::string name;
  std::string problem;
};

std::vector<BadName> bad_names() {
  return {
      {"", "a segment name must not be empty"},
      {std::string(65, 'a'), "a segment name has at most 64 characters, this one has 65"},
      {"a/b", "a segment name is not a path: '/' or '\\' at index 1"},
      {"/abs", "a segment name is not a path: '/' or '\\' at index 0"},
      {"a\\b", "a segment name is not a path: '/' or '\\' at index 1"},
      {"sp ace", "character 32 at index 2 is outside [A-Za-z0-9._-]"},
      {std::string("nul\0x", 5), "character 0 at index 3 is outside [A-Za-z0-9._-]"},
      {"caf\xc3\xa9", "character 195 at index 3 is outside [A-Za-z0-9._-]"},
      {"..", "a segment name must not contain \"..\""},
      {"a..b", "a segment name must not contain \"..\""},
      {".", "a segment name must not be \".\""},
  };
}

std::string what_for(const BadName& b) {
  if (b.name.empty()) return "stella: " + b.problem;
  return "stella: segment '" + b.name + "': " + b.problem;
}

}  // namespace

TEST_CASE("bad names are refused with invalid_name by every entry point") {
  for (const BadName& b : bad_names()) {
    const std::string& name = b.name;
    const BadName& bn = b;
    CAPTURE(b.problem);
    expect_error([&] { stella::SharedMemory shm(name, stella::SharedMemoryMode::Create, 64); }, Errc::invalid_name,
                 what_for(bn));
    expect_error([&] { stella::SharedMemory shm(name, stella::SharedMemoryMode::Open); }, Errc::invalid_name,
                 what_for(bn));
    expect_error([&] { stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Create, 4096); },
                 Errc::invalid_name, what_for(bn));
    expect_error([&] { stella::LockFreeBufferReader r(name); }, Errc::invalid_name, what_for(bn));
  }
}

TEST_CASE("oversize blob value: value_too_large naming size and capacity, the old value kept") {
  const std::string name = stella::test::unique_name("big");
  stella::test::SegmentCleanup cleanup(name);
  stella::SharedMemory shm(name, stella::SharedMemoryMode::Create, 16);
  const std::vector<std::byte> fits(16, std::byte{1});
  shm.write_bytes(fits);
  const std::vector<std::byte> big(17, std::byte{2});
  expect_error([&] { shm.write_bytes(big); }, Errc::value_too_large,
               "stella: segment '" + name + "': a value of 17 bytes does not fit the capacity of 16 bytes");
  CHECK(shm.read_bytes() == fits);
}

TEST_CASE("oversize ring message: value_too_large, nothing written") {
  const std::string name = stella::test::unique_name("bigmsg");
  stella::test::SegmentCleanup cleanup(name);
  stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Create, 4096);
  stella::LockFreeBufferReader r(name);
  REQUIRE(w.max_message_size() == 4096 / 2 - 32);
  const std::vector<std::byte> big(w.max_message_size() + 1, std::byte{7});
  expect_error([&] { (void)w.write_bytes(big); }, Errc::value_too_large,
               "stella: segment '" + name + "': message of 2017 bytes exceeds the largest allowed, 2016 bytes (capacity/2 - 32)");
  std::vector<std::byte> out;
  CHECK_FALSE(r.try_read_bytes(out));
}

TEST_CASE("impossible sizes at creation: invalid_argument") {
  const std::string name = stella::test::unique_name("size");
  stella::test::SegmentCleanup cleanup(name);
  expect_error([&] { stella::SharedMemory shm(name, stella::SharedMemoryMode::Create, 0); }, Errc::invalid_argument,
               "stella: segment '" + name + "': a blob capacity must be at least 1 byte");
  expect_error([&] { stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Create, 5000); },
               Errc::invalid_argument,
               "stella: segment '" + name +
                   "': ring capacity must be a power of two between 4 KiB and 1 TiB, got 5000 bytes");
  expect_error([&] { stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Create, 2048); },
               Errc::invalid_argument,
               "stella: segment '" + name +
                   "': ring capacity must be a power of two between 4 KiB and 1 TiB, got 2048 bytes");
  CHECK_FALSE(stella::platform::MappedObject::exists(name));
}
