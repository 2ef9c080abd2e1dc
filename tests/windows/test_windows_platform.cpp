// The Windows platform layer in one process: object names, create/open/exists/unlink
// semantics, header-validated opens of forged segments, the writer lock between two
// instances, process identity, and wait/wake through two views of one segment.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <new>
#include <thread>

#include "stella/common/error.hpp"
#include "stella/common/platform/process.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/common/platform/wait.hpp"
#include "stella/common/segment.hpp"
#include "test_support.hpp"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

using namespace stella;
using namespace stella::platform;
using namespace std::chrono_literals;

namespace {

template <class F>
Errc error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("no stella::Error thrown");
  return Errc::io;
}

std::atomic<std::uint32_t>& word_at(const MappedObject& obj, std::size_t offset) {
  return *std::launder(reinterpret_cast<std::atomic<std::uint32_t>*>(static_cast<std::byte*>(obj.data()) + offset));
}

}  // namespace

TEST_CASE("segments are Local\\stella.<name> file mappings") {
  CHECK(MappedObject::os_name("telemetry") == "Local\\stella.telemetry");
}

TEST_CASE("create, open, exists, and unlink with Windows lifetime") {
  const auto name = test::unique_name("life");
  test::SegmentCleanup cleanup(name);
  CHECK_FALSE(MappedObject::exists(name));
  CHECK(error_of([&] { (void)MappedObject::open(name, Access::read_only); }) == Errc::not_found);
  {
    auto a = MappedObject::create(name, 10000);
    CHECK(a.size() == 10000);
    CHECK(MappedObject::exists(name));
    const auto* bytes = static_cast<const unsigned char*>(a.data());
    bool zero = true;
    for (std::size_t i = 0; i < a.size(); ++i) zero = zero && bytes[i] == 0;
    CHECK(zero);  // the memory reads as zeros
    CHECK(error_of([&] { (void)MappedObject::create(name, 4096); }) == Errc::already_exists);
    std::memcpy(a.data(), "hello", 5);
    auto b = MappedObject::open(name, Access::read_only);
    CHECK(b.size() >= 10000);  // page-granular
    CHECK(std::memcmp(b.data(), "hello", 5) == 0);
    // unlink cannot remove a mapping that is open: it says the name exists...
    CHECK(MappedObject::unlink(name));
    // ...and the object stays (on POSIX the name would be gone now).
    CHECK(MappedObject::exists(name));
  }
  // The last handle closed: the mapping is gone.
  CHECK_FALSE(MappedObject::exists(name));
  CHECK_FALSE(MappedObject::unlink(name));
  CHECK(error_of([&] { (void)MappedObject::create(name, 0); }) == Errc::invalid_argument);
  CHECK(error_of([&] { (void)MappedObject::create("a/b", 64); }) == Errc::invalid_name);
}

TEST_CASE("an impossible size is no_space, not a crash later") {
  const auto name = test::unique_name("huge");
  test::SegmentCleanup cleanup(name);
  CHECK(error_of([&] { (void)MappedObject::create(name, std::size_t{1} << 50); }) == Errc::no_space);
  CHECK_FALSE(MappedObject::exists(name));
}

TEST_CASE("opening validates the header whatever the mapping holds") {
  const auto name = test::unique_name("forged");
  test::SegmentCleanup cleanup(name);
  SegmentSpec spec;
  spec.kind = SegmentKind::blob;
  spec.area_size = 1024;
  {
    auto seg = Segment::create(name, spec);
    seg.publish();
    CHECK_NOTHROW((void)Segment::open(name, SegmentKind::blob, Access::read_only));
    CHECK(error_of([&] { (void)Segment::open(name, SegmentKind::ring, Access::read_only); }) == Errc::wrong_kind);
    auto raw = MappedObject::open(name, Access::read_write);
    auto* h = static_cast<SegmentHeader*>(raw.data());
    h->total_size = 1u << 20;  // claims more than the mapping holds
    h->checksum = header_checksum(*h);
    CHECK(error_of([&] { (void)Segment::open(name, SegmentKind::blob, Access::read_only); }) == Errc::truncated);
    h->params[0] ^= 1;  // scribbled: checksum no longer matches
    CHECK(error_of([&] { (void)Segment::open(name, SegmentKind::blob, Access::read_only); }) == Errc::corrupt);
    h->magic = 42;
    CHECK(error_of([&] { (void)Segment::open(name, SegmentKind::blob, Access::read_only); }) == Errc::bad_magic);
  }
  const auto zeros = test::unique_name("zeros");
  test::SegmentCleanup cleanup2(zeros);
  auto raw = MappedObject::create(zeros, 64);  // never published: a creator that died
  CHECK(error_of([&] { (void)Segment::open(zeros, SegmentKind::blob, Access::read_only, 20ms); }) == Errc::bad_magic);
}

TEST_CASE("the writer lock excludes a second instance, in this process too, and is released on close") {
  const auto name = test::unique_name("lock");
  test::SegmentCleanup cleanup(name);
  auto a = MappedObject::create(name, 4096);
  auto b = MappedObject::open(name, Access::read_write);
  a.lock_exclusive();
  CHECK_FALSE(b.try_lock_exclusive());
  a.unlock();
  CHECK(b.try_lock_exclusive());
  CHECK_FALSE(a.try_lock_exclusive());
  {
    MappedObject closing = std::move(b);  // closed while locked: the lock goes with it
  }
  CHECK(a.try_lock_exclusive());
  a.unlock();
}

TEST_CASE("process identity: pid and creation time") {
  const auto me = current_process();
  CHECK(me.pid == ::GetCurrentProcessId());
  CHECK(me.start_time > 0);
  CHECK(process_start_time(me.pid) == std::optional<std::uint64_t>(me.start_time));
  CHECK(is_alive(me));
  CHECK_FALSE(is_alive({me.pid, me.start_time + 1}));
  CHECK_FALSE(is_alive({0, 0}));
}

TEST_CASE("wait/wake on a mapped word: offsets, not addresses; timeouts; channels") {
  const auto name = test::unique_name("wait");
  test::SegmentCleanup cleanup(name);
  auto view1 = MappedObject::create(name, 4096);
  auto view2 = MappedObject::open(name, Access::read_write);  // another address, same memory
  REQUIRE(view1.data() != view2.data());
  auto& w1 = *new (static_cast<std::byte*>(view1.data()) + 128) std::atomic<std::uint32_t>(0);
  auto& w2 = word_at(view2, 128);

  CHECK(wait_on_address(w1, 1, 1s) == WaitResult::value_changed);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(wait_on_address(w1, 0, 30ms) == WaitResult::timed_out);
  CHECK(std::chrono::steady_clock::now() - t0 >= 25ms);

  SUBCASE("a wake through the other view wakes the sleeper") {
    std::atomic<bool> done{false};
    std::thread sleeper([&] {
      while (w1.load() == 0) (void)wait_on_address(w1, 0, 20s);
      done = true;
    });
    std::this_thread::sleep_for(50ms);  // let it sleep (the test passes either way)
    w2.store(1);
    wake_on_address(w2);
    sleeper.join();
    CHECK(done.load());
  }

  SUBCASE("a wake on a disjoint channel does not wake; one on its channel does") {
    std::atomic<int> result{-1};
    std::thread sleeper([&] { result = static_cast<int>(wait_on_address(w1, 0, 20s, 1u << 3)); });
    // Wait until it is armed: wakes on its channel report one woken thread.
    int woke = 0;
    w2.store(0);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (woke == 0 && std::chrono::steady_clock::now() < deadline) {
      CHECK(wake_on_address(w2, 0, 1u << 4) == 0);  // another channel: never wakes it
      std::this_thread::sleep_for(5ms);
      if (result.load() != -1) break;  // woken by something else: fail below
      woke = wake_on_address(w2, 0, 1u << 3);
    }
    sleeper.join();
    CHECK(woke == 1);
    CHECK(result.load() == static_cast<int>(WaitResult::woken));
  }
}

TEST_CASE("many threads waiting on one mapped word are all woken") {
  const auto name = test::unique_name("herd");
  test::SegmentCleanup cleanup(name);
  auto view = MappedObject::create(name, 4096);
  auto& word = *new (view.data()) std::atomic<std::uint32_t>(0);
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      while (word.load() == 0) (void)wait_on_address(word, 0, 30s);
      ++finished;
    });
  }
  std::this_thread::sleep_for(50ms);
  word.store(1);
  wake_on_address(word);
  for (auto& t : threads) t.join();
  CHECK(finished.load() == 16);
}
