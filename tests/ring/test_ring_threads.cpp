// A multi-threaded variant of the multi-process stress test, so ThreadSanitizer can see
// every access of the ring's algorithm (it cannot see across processes). Each thread
// opens its own writer or reader, as separate processes would.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ring_message.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

void stress(WriteBehavior behavior, bool claim) {
  const auto name = test::unique_name("threads");
  test::SegmentCleanup cleanup(name);
  constexpr std::uint32_t kWriters = 3, kReaders = 2;
  constexpr std::uint64_t kPerWriter = 30'000;
  RingOptions o;
  o.spin_iterations = 50;
  MultiWriterCircularBuffer creator(name, SharedMemoryMode::Create, 8192, behavior, o);
  std::vector<std::unique_ptr<LockFreeBufferReader>> readers;
  ReaderOptions ro;
  ro.spin_iterations = 50;
  for (std::uint32_t i = 0; i < kReaders; ++i) readers.push_back(std::make_unique<LockFreeBufferReader>(name, ro));
  std::vector<std::thread> threads;
  for (std::uint32_t id = 0; id < kWriters; ++id) {
    threads.emplace_back([&, id] {
      MultiWriterCircularBuffer w(name, SharedMemoryMode::Open, 0, behavior, o);
      std::vector<std::byte> buf;
      for (std::uint64_t seq = 0; seq < kPerWriter; ++seq) {
        const std::size_t size = test::message_size(id, seq, 24, 200);
        if (claim) {
          auto c = w.claim(size);
          REQUIRE(c);
          buf.resize(size);
          test::fill_message(buf, id, seq);
          ring::copy_into_record(c->data().data(), buf.data(), size);
          c->commit();
        } else {
          buf.resize(size);
          test::fill_message(buf, id, seq);
          REQUIRE(w.write_bytes(buf) == WriteResult::Ok);
        }
      }
    });
  }
  std::atomic<std::uint64_t> torn{0}, order{0}, incomplete{0}, accounted{0};
  for (auto& reader : readers) {
    threads.emplace_back([&, r = reader.get()] {
      test::MessageChecker checker(kWriters, kPerWriter, behavior == WriteBehavior::Block);
      std::vector<std::byte> out;
      const std::uint64_t total = kWriters * kPerWriter;
      while (r->messages_read() + r->messages_lost() < total) {
        if (r->read_bytes(out, 10s) != ReadResult::Ok) break;
        checker.check(out);
      }
      torn += checker.torn();
      order += checker.order_errors();
      if (behavior == WriteBehavior::Block && !checker.complete()) ++incomplete;
      accounted += r->messages_read() + r->messages_lost();
    });
  }
  for (auto& t : threads) t.join();
  MESSAGE("torn " << torn.load() << " order " << order.load() << " incomplete " << incomplete.load() << " accounted " << accounted.load());
  CHECK(torn == 0);
  CHECK(order == 0);
  CHECK(incomplete == 0);
  CHECK(accounted == kReaders * kWriters * kPerWriter);
}

}  // namespace

TEST_CASE("threads: Block, 3 writers -> 2 readers, copy API") { stress(WriteBehavior::Block, false); }
TEST_CASE("threads: Block, 3 writers -> 2 readers, claim API") { stress(WriteBehavior::Block, true); }
TEST_CASE("threads: Overwrite, 3 writers -> 2 readers") { stress(WriteBehavior::Overwrite, false); }
