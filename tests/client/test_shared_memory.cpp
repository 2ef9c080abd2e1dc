// SharedMemory in one process: modes, errors with their documented codes, empty and
// oversize values, read-only opens, claims, removal, moves, threads, and the blob layout.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "stella/common/blob.hpp"
#include "stella/common/segment.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"
#include "values.hpp"

using namespace stella;

namespace {

template <class F>
Errc error_of(F&& f, const std::string& must_mention = {}) {
  try {
    f();
  } catch (const Error& e) {
    if (!must_mention.empty()) CHECK_MESSAGE(std::string(e.what()).find(must_mention) != std::string::npos, e.what());
    return e.code();
  }
  FAIL("no stella::Error was thrown");
  return Errc::io;
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

// Maps an existing segment read-write to forge or scribble bytes.
platform::MappedObject raw(const std::string& name) {
  return platform::MappedObject::open(name, platform::Access::read_write);
}

}  // namespace

TEST_CASE("blob layout matches its documented offsets (bump kLayoutVersion with any change)") {
  // A mirror of the documented layout: any change to BlobArea must change these numbers
  // and kLayoutVersion together.
  CHECK(kLayoutVersion == 4);  // the blob layout is unchanged since 1; versions 2 and 3 changed the ring, 4 the header
  CHECK(offsetof(BlobArea, control) == 0);
  CHECK(offsetof(BlobControl, published) == 0);
  CHECK(offsetof(BlobArea, slots) == 64);
  CHECK(offsetof(BlobArea, slots) + sizeof(BlobSlotHeader) == 128);
  CHECK(offsetof(BlobSlotHeader, sequence) == 0);
  CHECK(offsetof(BlobSlotHeader, size) == 8);
  CHECK(offsetof(BlobSlotHeader, generation) == 16);
  CHECK(sizeof(BlobArea) == 192);
  CHECK(blob_slot_stride(1) == 64);
  CHECK(blob_slot_stride(64) == 64);
  CHECK(blob_slot_stride(65) == 128);
  CHECK(blob_area_size(100) == 192 + 2 * 128);
}

TEST_CASE("create, write, open elsewhere, read") {
  const auto name = test::unique_name("rt");
  test::SegmentCleanup cleanup(name);
  SharedMemory writer(name, SharedMemoryMode::Create, 1024);
  CHECK(writer.name() == name);
  CHECK(writer.capacity() == 1024);
  CHECK_FALSE(writer.read_only());
  CHECK(writer.generation() == 0);
  writer.write(std::string("hello"), BytesSerializer{});
  CHECK(writer.generation() == 1);

  SharedMemory reader(name, SharedMemoryMode::Open);
  CHECK(reader.capacity() == 1024);
  CHECK(reader.read<std::string>(BytesSerializer{}) == "hello");
  writer.write(std::string("world!"), BytesSerializer{});
  CHECK(reader.read<std::string>(BytesSerializer{}) == "world!");
  CHECK(reader.generation() == 2);
  reader.write(std::string("back"), BytesSerializer{});  // any read-write opener may write
  CHECK(writer.try_read<std::string>(BytesSerializer{}) == std::optional<std::string>("back"));
}

TEST_CASE("a segment never written reads as empty") {
  const auto name = test::unique_name("empty");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  CHECK(error_of([&] { (void)shm.read_bytes(); }, name) == Errc::empty);
  CHECK(error_of([&] { (void)shm.read<std::string>(BytesSerializer{}); }, name) == Errc::empty);
  CHECK_FALSE(shm.try_read_bytes().has_value());
  CHECK_FALSE(shm.try_read<std::string>(BytesSerializer{}).has_value());
  std::vector<std::byte> out(3);
  CHECK_FALSE(shm.try_read_bytes_into(out));
  // An empty value is a value, not "empty".
  shm.write_bytes({});
  CHECK(shm.read_bytes().empty());
  CHECK(shm.try_read_bytes().has_value());
}

TEST_CASE("a value larger than the capacity is refused, naming segment, size and capacity") {
  const auto name = test::unique_name("big");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 100);
  shm.write_bytes(std::vector<std::byte>(100, std::byte{1}));  // exactly the capacity fits
  try {
    shm.write_bytes(std::vector<std::byte>(101, std::byte{2}));
    FAIL("oversize write accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::value_too_large);
    const std::string what = e.what();
    CHECK(what.find(name) != std::string::npos);
    CHECK(what.find("101") != std::string::npos);
    CHECK(what.find("100") != std::string::npos);
  }
  CHECK(error_of([&] { shm.write(std::string(101, 'x'), BytesSerializer{}); }) == Errc::value_too_large);
  CHECK(error_of([&] { (void)shm.try_write_bytes(std::vector<std::byte>(500)); }) == Errc::value_too_large);
  CHECK(error_of([&] { (void)shm.claim(101); }) == Errc::value_too_large);
  // The refused writes changed nothing and left the lock free.
  CHECK(shm.read_bytes() == std::vector<std::byte>(100, std::byte{1}));
  CHECK(shm.try_write_bytes(std::vector<std::byte>(1)));
}

TEST_CASE("invalid names are refused with invalid_name") {
  const std::vector<std::string> bad{"", std::string(65, 'a'), "a/b", "/abs", "..", "has space", "star*",
                                     "tab\t", "caf\xc3\xa9"};
  for (const auto& n : bad) {
    CAPTURE(n);
    CHECK(error_of([&] { SharedMemory s(n, SharedMemoryMode::Create, 64); }) == Errc::invalid_name);
    CHECK(error_of([&] { SharedMemory s(n, SharedMemoryMode::Open); }) == Errc::invalid_name);
    CHECK(error_of([&] { SharedMemory s(n, SharedMemoryMode::OpenOrCreate, 64); }) == Errc::invalid_name);
    CHECK(error_of([&] { SharedMemory::remove(n); }) == Errc::invalid_name);
  }
  // The longest valid name works.
  const std::string longest = test::unique_name("x") + std::string(64, 'n');
  const std::string name = longest.substr(0, 64);
  test::SegmentCleanup cleanup(name);
  SharedMemory ok(name, SharedMemoryMode::Create, 64);
  CHECK(ok.name().size() == 64);
}

TEST_CASE("open errors: missing, existing, wrong kind, truncated, bad magic, other version, corrupt") {
  const auto name = test::unique_name("err");
  test::SegmentCleanup cleanup(name);

  CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::not_found);
  CHECK(error_of([&] { (void)SharedMemory::open_read_only(name); }, name) == Errc::not_found);

  SUBCASE("already exists") {
    SharedMemory a(name, SharedMemoryMode::Create, 64);
    CHECK(error_of([&] { SharedMemory b(name, SharedMemoryMode::Create, 64); }, name) == Errc::already_exists);
  }
  SUBCASE("a ring segment is not a blob") {
    SegmentSpec spec;
    spec.kind = SegmentKind::ring;
    spec.area_size = 4096;
    auto ring = Segment::create(name, spec);
    ring.publish();
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::wrong_kind);
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::OpenOrCreate, 64); }, name) == Errc::wrong_kind);
  }
  SUBCASE("truncated") {
    { SharedMemory a(name, SharedMemoryMode::Create, 1000); }
    const int fd = ::shm_open(platform::MappedObject::os_name(name).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 300) == 0);  // header intact, slots cut off
    ::close(fd);
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::truncated);
  }
  SUBCASE("bad magic") {
    { SharedMemory a(name, SharedMemoryMode::Create, 64); }
    auto obj = raw(name);
    std::memset(obj.data(), 0x5A, 8);
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::bad_magic);
  }
  SUBCASE("another layout version") {
    { SharedMemory a(name, SharedMemoryMode::Create, 64); }
    auto obj = raw(name);
    static_cast<SegmentHeader*>(obj.data())->layout_version.store(kLayoutVersion + 1);
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::version_mismatch);
  }
  SUBCASE("a blob header whose capacity does not fit its area") {
    SegmentSpec spec;
    spec.kind = SegmentKind::blob;
    spec.area_size = 256;
    spec.params[kBlobParamCapacity] = 100000;
    spec.params[kBlobParamSlotStride] = blob_slot_stride(100000);
    auto seg = Segment::create(name, spec);
    seg.publish();
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::corrupt);
  }
  SUBCASE("a blob header with capacity 0") {
    SegmentSpec spec;
    spec.kind = SegmentKind::blob;
    spec.area_size = 256;
    auto seg = Segment::create(name, spec);
    seg.publish();
    CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }, name) == Errc::corrupt);
  }
}

TEST_CASE("scribbled slot memory gives corrupt, never an out-of-bounds read") {
  const auto name = test::unique_name("scribble");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  shm.write_bytes(bytes_of("fine"));
  auto obj = raw(name);
  const auto& h = *static_cast<const SegmentHeader*>(obj.data());
  auto* area = reinterpret_cast<BlobArea*>(static_cast<std::byte*>(obj.data()) + h.area_offset);
  const auto published = area->control.published.load();
  area->slots[published & 1].size.store(1u << 30);  // far beyond the capacity and the mapping
  CHECK(error_of([&] { (void)shm.read_bytes(); }, name) == Errc::corrupt);
  shm.write_bytes(bytes_of("repaired by the next write"));
  CHECK(shm.read_bytes() == bytes_of("repaired by the next write"));
}

TEST_CASE("invalid arguments") {
  const auto name = test::unique_name("arg");
  test::SegmentCleanup cleanup(name);
  CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Create, 0); }) == Errc::invalid_argument);
  CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::OpenOrCreate, 0); }) == Errc::invalid_argument);
  SharedMemoryOptions ro;
  ro.read_only = true;
  CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Create, 64, ro); }) == Errc::invalid_argument);
  CHECK_FALSE(platform::MappedObject::exists(name));
}

TEST_CASE("OpenOrCreate creates, then opens") {
  const auto name = test::unique_name("ooc");
  test::SegmentCleanup cleanup(name);
  SharedMemory first(name, SharedMemoryMode::OpenOrCreate, 128);
  first.write(std::string("first"), BytesSerializer{});
  SharedMemory second(name, SharedMemoryMode::OpenOrCreate, 64);  // smaller request: fine
  CHECK(second.capacity() == 128);
  CHECK(second.read<std::string>(BytesSerializer{}) == "first");
  CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::OpenOrCreate, 129); }, "128") ==
        Errc::invalid_argument);
}

TEST_CASE("a read-only open reads but refuses to write") {
  const auto name = test::unique_name("ro");
  test::SegmentCleanup cleanup(name);
  SharedMemory rw(name, SharedMemoryMode::Create, 64);
  const SharedMemory ro = SharedMemory::open_read_only(name);
  CHECK(ro.read_only());
  CHECK_FALSE(ro.try_read_bytes().has_value());
  rw.write(std::string("visible"), BytesSerializer{});
  CHECK(ro.read<std::string>(BytesSerializer{}) == "visible");
  SharedMemory ro2 = SharedMemory::open_read_only(name);
  CHECK(error_of([&] { ro2.write_bytes(bytes_of("no")); }, name) == Errc::permission_denied);
  CHECK(error_of([&] { (void)ro2.try_write_bytes(bytes_of("no")); }) == Errc::permission_denied);
  CHECK(error_of([&] { (void)ro2.claim(1); }) == Errc::permission_denied);
  CHECK(rw.read<std::string>(BytesSerializer{}) == "visible");
}

TEST_CASE("claims write in place; aborted or abandoned claims are never seen") {
  const auto name = test::unique_name("claim");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  SharedMemory other(name, SharedMemoryMode::Open);
  {
    auto claim = shm.claim(64);
    CHECK(claim.data().size() == 64);
    std::memcpy(claim.data().data(), "in place", 8);
    // Held: another object (its own flock) and this object (its mutex) are refused.
    CHECK_FALSE(other.try_write_bytes(bytes_of("x")));
    CHECK_FALSE(other.try_claim(1).has_value());
    CHECK_FALSE(shm.try_claim(1).has_value());
    CHECK_FALSE(other.try_read_bytes().has_value());  // not yet published
    claim.commit(8);
  }
  CHECK(other.read_bytes() == bytes_of("in place"));
  {
    auto claim = shm.claim(10);
    std::memcpy(claim.data().data(), "abandoned!", 10);
  }  // destroyed uncommitted
  CHECK(other.read_bytes() == bytes_of("in place"));
  {
    auto claim = other.try_claim(5);
    REQUIRE(claim.has_value());
    std::memcpy(claim->data().data(), "abort", 5);
    claim->abort();
    CHECK_FALSE(claim->data().data());
    CHECK(error_of([&] { claim->commit(); }) == Errc::invalid_argument);
  }
  CHECK(other.read_bytes() == bytes_of("in place"));
  CHECK(shm.generation() == 1);
  {
    auto claim = shm.claim(4);
    CHECK(error_of([&] { claim.commit(5); }) == Errc::invalid_argument);  // more than claimed; aborts
  }
  CHECK(shm.try_write_bytes(bytes_of("lock free again")));
  CHECK(other.read_bytes() == bytes_of("lock free again"));
}

TEST_CASE("remove unlinks the name; open mappings stay valid") {
  const auto name = test::unique_name("rm");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  shm.write(std::string("kept"), BytesSerializer{});
  shm.remove();
  CHECK_FALSE(platform::MappedObject::exists(name));
  CHECK(shm.read<std::string>(BytesSerializer{}) == "kept");
  CHECK(error_of([&] { SharedMemory s(name, SharedMemoryMode::Open); }) == Errc::not_found);
  SharedMemory fresh(name, SharedMemoryMode::Create, 64);  // the name is free again
  CHECK_FALSE(fresh.try_read_bytes().has_value());
  CHECK(SharedMemory::remove(name));
  CHECK_FALSE(SharedMemory::remove(name));
}

TEST_CASE("SharedMemory moves; a moved-from object refuses use") {
  const auto name = test::unique_name("mv");
  test::SegmentCleanup cleanup(name);
  SharedMemory a(name, SharedMemoryMode::Create, 64);
  a.write(std::string("moved"), BytesSerializer{});
  SharedMemory b(std::move(a));
  CHECK(b.read<std::string>(BytesSerializer{}) == "moved");
  CHECK(error_of([&] { (void)a.name(); }) == Errc::invalid_argument);  // NOLINT(bugprone-use-after-move)
  SharedMemory c(test::unique_name("mv2"), SharedMemoryMode::Create, 8);
  SharedMemory::remove(c.name());
  c = std::move(b);
  CHECK(c.name() == name);
  CHECK(c.read<std::string>(BytesSerializer{}) == "moved");
  static_assert(!std::is_copy_constructible_v<SharedMemory> && !std::is_copy_assignable_v<SharedMemory>);
  static_assert(std::is_nothrow_move_constructible_v<SharedMemory>);
}

TEST_CASE("threads sharing one object: writes are serialised, reads never torn") {
  const auto name = test::unique_name("thr");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, test::kRecordOverhead + test::kMaxRecordPayload);
  std::vector<std::byte> first;
  test::make_record(0, 0, first);
  shm.write_bytes(first);
  constexpr int kWriters = 3;
  constexpr std::uint64_t kWrites = 2000;
  std::atomic<int> writers_done{0};
  std::atomic<long> torn{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> threads;
  for (int w = 1; w <= kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::vector<std::byte> record;
      for (std::uint64_t c = 1; c <= kWrites; ++c) {
        test::make_record(static_cast<std::uint32_t>(w), c, record);
        shm.write_bytes(record);
      }
      writers_done.fetch_add(1);
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      std::vector<std::byte> value;
      while (writers_done.load() < kWriters) {
        if (!shm.try_read_bytes_into(value) || !test::check_record(value)) torn.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(shm.generation() == 1 + kWriters * kWrites);
}

TEST_CASE("writers on separate objects (separate flock descriptions) exclude each other") {
  const auto name = test::unique_name("excl");
  test::SegmentCleanup cleanup(name);
  SharedMemory creator(name, SharedMemoryMode::Create, 64);
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      SharedMemory own(name, SharedMemoryMode::Open);  // its own open file description
      for (int i = 0; i < 3000; ++i) {
        auto claim = own.claim(8);
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        std::memset(claim.data().data(), t, 8);
        std::this_thread::yield();  // widen the window another writer would have to get in
        inside.fetch_sub(1);
        claim.commit();
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(overlaps.load() == 0);
  CHECK(creator.generation() == 6000);
}
