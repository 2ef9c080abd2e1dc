// Single-process behaviour of the ring: records, wrap, sizes, modes, errors, zero copy.
#include <doctest/doctest.h>

#include <cstring>
#include <numeric>
#include <thread>

#include "stella/common/error.hpp"
#include "stella/ring.hpp"
#include "stella/serializers/trivially_copyable.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> pattern(std::size_t n, std::uint32_t salt) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131 + salt * 7 + 1) & 0xFF);
  return v;
}

RingOptions fast() {
  RingOptions o;
  o.spin_iterations = 10;
  return o;
}

ReaderOptions fast_reader(StartPosition start = StartPosition::Oldest) {
  ReaderOptions o;
  o.start = start;
  o.spin_iterations = 10;
  return o;
}

}  // namespace

TEST_CASE("write then read round-trips every size from 0 to the maximum, across the wrap at every offset") {
  const auto name = test::unique_name("sizes");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, fast());
  LockFreeBufferReader r(name, fast_reader());
  CHECK(w.max_message_size() == 4096 / 2 - 32);
  std::vector<std::byte> out;
  std::uint32_t salt = 0;
  // Every size 0..max, and small sizes repeatedly so the wrap falls at every 16-byte offset.
  std::vector<std::size_t> sizes(w.max_message_size() + 1);
  std::iota(sizes.begin(), sizes.end(), 0);
  for (int round = 0; round < 300; ++round) sizes.push_back(static_cast<std::size_t>(round % 67));
  for (std::size_t n : sizes) {
    const auto msg = pattern(n, ++salt);
    REQUIRE(w.write_bytes(msg) == WriteResult::Ok);
    REQUIRE(r.try_read_bytes(out));
    REQUIRE(out == msg);
    CHECK_FALSE(r.try_read_bytes(out));
  }
  CHECK(r.messages_read() == sizes.size());
  CHECK(r.messages_lost() == 0);
}

TEST_CASE("a message larger than the maximum is refused with value_too_large") {
  const auto name = test::unique_name("big");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 8192);
  const std::vector<std::byte> big(w.max_message_size() + 1);
  try {
    (void)w.write_bytes(big);
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::value_too_large);
    CHECK(std::string(e.what()).find(name) != std::string::npos);
  }
  CHECK_THROWS_AS((void)w.claim(w.max_message_size() + 1), Error);
}

TEST_CASE("bad capacities, wrong kind and missing rings give clear errors") {
  const auto name = test::unique_name("bad");
  test::SegmentCleanup cleanup(name);
  for (std::size_t cap : {std::size_t{0}, std::size_t{1000}, std::size_t{2048}, std::size_t{4096 + 16}}) {
    try {
      MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, cap);
      FAIL("accepted capacity " << cap);
    } catch (const Error& e) {
      CHECK(e.code() == Errc::invalid_argument);
      CHECK(std::string(e.what()).find("power of two") != std::string::npos);
    }
  }
  try {
    LockFreeBufferReader r(name);
    FAIL("opened a missing ring");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::not_found);
  }
  SharedMemory blob(name, SharedMemoryMode::Create, 128);
  try {
    LockFreeBufferReader r(name);
    FAIL("opened a blob as a ring");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::wrong_kind);
  }
}

TEST_CASE("reader and writer slots: full is a clear error; a closed reader frees its slot") {
  const auto name = test::unique_name("slots");
  test::SegmentCleanup cleanup(name);
  RingOptions o = fast();
  o.max_readers = 2;
  o.max_writers = 1;
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, o);
  {
    LockFreeBufferReader a(name), b(name);
    try {
      LockFreeBufferReader c(name);
      FAIL("third reader accepted");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::slots_full);
      CHECK(std::string(e.what()).find("max_readers") != std::string::npos);
    }
    try {
      MultiWriterCircularBuffer w2(name, SharedMemoryMode::Open);
      FAIL("second writer accepted");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::slots_full);
    }
  }
  LockFreeBufferReader again(name);  // slots were freed
  CHECK(again.messages_read() == 0);
}

TEST_CASE("Overwrite: a lapped reader loses the oldest messages, is told how many, and resumes at a boundary") {
  const auto name = test::unique_name("lap");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, fast());
  LockFreeBufferReader r(name, fast_reader());
  const std::uint64_t total = 1000;
  for (std::uint64_t i = 0; i < total; ++i) {
    std::uint64_t v = i;
    REQUIRE(w.write_bytes(std::as_bytes(std::span(&v, 1))) == WriteResult::Ok);  // never waits
  }
  std::vector<std::byte> out;
  std::uint64_t last = 0;
  bool first = true;
  while (r.try_read_bytes(out)) {
    REQUIRE(out.size() == 8);
    std::uint64_t v;
    std::memcpy(&v, out.data(), 8);
    if (!first) CHECK(v == last + 1);
    last = v;
    first = false;
  }
  CHECK(last == total - 1);
  CHECK(r.messages_lost() > 0);
  CHECK(r.messages_read() + r.messages_lost() == total);
}

TEST_CASE("Block: try_write says WouldBlock when full, write times out, and goes on once the reader reads") {
  const auto name = test::unique_name("block");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, fast());
  LockFreeBufferReader r(name, fast_reader());
  const auto msg = pattern(100, 1);
  int written = 0;
  while (w.try_write_bytes(msg) == WriteResult::Ok) ++written;
  CHECK(written == 4096 / ring::record_size(100));
  CHECK(w.write_bytes(msg, 20ms) == WriteResult::Timeout);
  std::vector<std::byte> out;
  REQUIRE(r.try_read_bytes(out));  // publishes the cursor once drained or per batch
  r.core().publish();
  CHECK(w.write_bytes(msg, 1s) == WriteResult::Ok);
  int read = 1;
  while (r.try_read_bytes(out)) ++read;
  CHECK(read == written + 1);
  CHECK(r.messages_lost() == 0);
}

TEST_CASE("Block with no reader registered does not wait") {
  const auto name = test::unique_name("noreader");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, fast());
  const auto msg = pattern(200, 3);
  for (int i = 0; i < 100; ++i) REQUIRE(w.try_write_bytes(msg) == WriteResult::Ok);
}

TEST_CASE("zero copy: claim, fill, commit; abort is skipped; peek and release") {
  const auto name = test::unique_name("claim");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, fast());
  LockFreeBufferReader r(name, fast_reader());
  {
    auto c = w.claim(5);
    REQUIRE(c);
    CHECK(reinterpret_cast<std::uintptr_t>(c->data().data()) % 16 == 0);
    std::memcpy(c->data().data(), "hello", 5);
    // Not yet committed: the reader waits at it.
    std::vector<std::byte> out;
    CHECK_FALSE(r.try_read_bytes(out));
    c->commit();
  }
  {
    auto c = w.claim(3);
    REQUIRE(c);
    c->abort();
  }
  { auto dropped = w.claim(4); }  // destroyed uncommitted: aborted
  const auto msg = pattern(7, 9);
  REQUIRE(w.write_bytes(msg) == WriteResult::Ok);
  auto v = r.try_peek();
  REQUIRE(v);
  CHECK(std::string(reinterpret_cast<const char*>(v->data().data()), v->data().size()) == "hello");
  CHECK(r.release());
  auto v2 = r.try_peek();
  REQUIRE(v2);
  CHECK(std::vector<std::byte>(v2->data().begin(), v2->data().end()) == msg);
  CHECK(r.release());
  CHECK_FALSE(r.try_peek());
  CHECK(r.messages_read() == 2);
  CHECK(r.messages_lost() == 0);  // aborted records are not losses
}

TEST_CASE("start positions: oldest sees what is retained, latest only what comes after") {
  const auto name = test::unique_name("start");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, fast());
  const auto msg = pattern(10, 2);
  for (int i = 0; i < 3; ++i) REQUIRE(w.write_bytes(msg) == WriteResult::Ok);
  LockFreeBufferReader oldest(name, fast_reader(StartPosition::Oldest));
  LockFreeBufferReader latest(name, fast_reader(StartPosition::Latest));
  REQUIRE(w.write_bytes(msg) == WriteResult::Ok);
  std::vector<std::byte> out;
  int n_old = 0, n_new = 0;
  while (oldest.try_read_bytes(out)) ++n_old;
  while (latest.try_read_bytes(out)) ++n_new;
  CHECK(n_old == 4);
  CHECK(n_new == 1);
}

TEST_CASE("read(timeout) times out on an idle ring and is woken by a writer") {
  const auto name = test::unique_name("wake");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, fast());
  LockFreeBufferReader r(name, fast_reader());
  std::vector<std::byte> out;
  CHECK(r.read_bytes(out, 10ms) == ReadResult::Timeout);
  std::thread t([&] {
    MultiWriterCircularBuffer w2(name, SharedMemoryMode::Open);
    const auto msg = pattern(33, 4);
    (void)w2.write_bytes(msg);
  });
  CHECK(r.read_bytes(out, 30s) == ReadResult::Ok);
  t.join();
  CHECK(out == pattern(33, 4));
}

TEST_CASE("typed write/read through a serializer") {
  const auto name = test::unique_name("typed");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096);
  LockFreeBufferReader r(name);
  struct Point {
    int x, y;
  };
  TriviallyCopyableSerializer ser;
  REQUIRE(w.write(Point{3, 4}, ser) == WriteResult::Ok);
  Point p{};
  REQUIRE(r.try_read(ser, p));
  CHECK(p.x == 3);
  CHECK(p.y == 4);
}

TEST_CASE("Overwrite: a record overwritten a whole lap later by an identical-looking one is still detected (no ABA)") {
  // Same length, same writer: the new record's header word equals the old one's. Only the
  // sequence number tells them apart; a view of the old record must not survive.
  const auto name = test::unique_name("aba");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, fast());
  LockFreeBufferReader r(name, fast_reader());
  const auto first = pattern(240, 1);  // 240 + 16 = 256-byte records: 16 per lap, aligned every lap
  REQUIRE(w.write_bytes(first) == WriteResult::Ok);
  auto view = r.try_peek();
  REQUIRE(view);
  CHECK(std::vector<std::byte>(view->data().begin(), view->data().end()) == first);
  for (int i = 0; i < 16; ++i) REQUIRE(w.write_bytes(pattern(240, 100 + static_cast<std::uint32_t>(i))) == WriteResult::Ok);
  CHECK_FALSE(r.release());  // overwritten while we looked, by a record with the same header word
  std::vector<std::byte> out;
  REQUIRE(r.try_read_bytes(out));
  CHECK(r.messages_lost() > 0);
}
