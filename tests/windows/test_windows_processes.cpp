// Stella across real Windows processes (win_helper, started with CreateProcess): a value
// written by one process and read by another, a ring written by one and read by another
// with blocking waits on both sides, a writer terminated (TerminateProcess) while holding
// the SharedMemory lock, cross-process wait/wake, liveness of dead processes, and the
// lifetime of a segment (it lives while some process holds it).
#include <doctest/doctest.h>

#include <chrono>
#include <new>
#include <thread>
#include <string>
#include <vector>

#include "ring_message.hpp"
#include "stella/common/platform/liveness.hpp"
#include "stella/common/platform/process.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/common/platform/wait.hpp"
#include "stella/ring.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

const std::string kHelper = WIN_HELPER;

int run_helper(const std::vector<std::string>& args) {
  test::Child child(kHelper, args);
  const auto status = child.wait(120s);
  REQUIRE_MESSAGE(status.has_value(), "win_helper did not finish");
  return *status;
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}

}  // namespace

TEST_CASE("a value written by one process is read by another, both ways") {
  const auto name = test::unique_name("blob");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 256);
  CHECK(run_helper({"write", name, "written-by-the-child"}) == 0);
  CHECK(shm.generation() == 1);
  CHECK(shm.read_bytes() == bytes_of("written-by-the-child"));

  shm.write_bytes(bytes_of("written-by-the-parent"));
  CHECK(run_helper({"read", name, "written-by-the-parent"}) == 0);
  CHECK(run_helper({"read", name, "something-else"}) == 3);  // the check can fail
}

TEST_CASE("a ring written by one process is read by another, with blocking reads and Block-mode waits") {
  const auto name = test::unique_name("ring");
  test::SegmentCleanup cleanup(name);
  RingOptions options;
  options.spin_iterations = 10;  // sleep early: the wakes must cross the process boundary
  MultiWriterCircularBuffer writer(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, options);
  constexpr std::uint64_t kCount = 20000;  // ~2.2 MB through a 4 KiB ring: thousands of waits

  SUBCASE("parent writes, child reads") {
    test::ReadyPipe ready;
    test::Child reader(kHelper, {"ring-read", name, std::to_string(kCount), std::to_string(ready.write_fd())});
    ready.close_write();
    REQUIRE(ready.read_line(60s) == std::optional<std::string>("reading"));
    std::vector<std::byte> msg;
    for (std::uint64_t seq = 0; seq < kCount; ++seq) {
      msg.resize(test::message_size(0, seq, test::kMessageHead, 200));
      test::fill_message(msg, 0, seq);
      REQUIRE(writer.write_bytes(msg, 60s) == WriteResult::Ok);
    }
    CHECK(reader.wait(120s) == std::optional<int>(0));
  }

  SUBCASE("child writes, parent reads") {
    ReaderOptions ro;
    ro.spin_iterations = 10;
    LockFreeBufferReader reader(name, ro);
    test::Child child(kHelper, {"ring-write", name, std::to_string(kCount)});
    test::MessageChecker checker(1, kCount, true);
    std::vector<std::byte> msg;
    for (std::uint64_t i = 0; i < kCount; ++i) {
      REQUIRE(reader.read_bytes(msg, 60s) == ReadResult::Ok);
      checker.check(msg);
    }
    CHECK(child.wait(120s) == std::optional<int>(0));
    CHECK(checker.torn() == 0);
    CHECK(checker.order_errors() == 0);
    CHECK(checker.complete());
  }
}

TEST_CASE("a writer terminated while holding the SharedMemory lock blocks neither writers nor readers") {
  const auto name = test::unique_name("kill");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 256);
  const auto before = bytes_of("the value before the crash");
  const auto after = bytes_of("the value after the crash");
  shm.write_bytes(before);

  test::ReadyPipe ready;
  test::Child writer(kHelper, {"hold-lock", name, std::to_string(ready.write_fd())});
  ready.close_write();
  REQUIRE(ready.read_line() == std::optional<std::string>("locked"));
  CHECK_FALSE(shm.try_write_bytes(after));  // it really holds the lock
  CHECK(shm.read_bytes() == before);        // readers never wait for a writer

  writer.kill(9);  // TerminateProcess, exit code 128 + 9
  REQUIRE(writer.wait(30s) == std::optional<int>(128 + 9));
  // The OS releases the dead process's file locks; Windows says "promptly, depending on
  // system resources", so allow a few seconds before calling it wedged.
  bool written = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(written = shm.try_write_bytes(after)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling a lock the OS will release: no event to wait on
  }
  CHECK(written);
  CHECK(shm.read_bytes() == after);  // the half-written claim of the dead writer never shows
  CHECK(run_helper({"read", name, "the value after the crash"}) == 0);
}

TEST_CASE("wait_on_address in one process is woken by wake_on_address in another") {
  const auto name = test::unique_name("wake");
  test::SegmentCleanup cleanup(name);
  auto obj = platform::MappedObject::create(name, 4096);
  constexpr std::size_t kOffset = 256;
  auto* word = new (static_cast<std::byte*>(obj.data()) + kOffset) std::atomic<std::uint32_t>(0);

  test::ReadyPipe ready;
  test::Child waiter(kHelper, {"wait-word", name, std::to_string(kOffset), std::to_string(ready.write_fd())});
  ready.close_write();
  REQUIRE(ready.read_line(60s) == std::optional<std::string>("waiting"));
  // Whether the child already sleeps or is about to, it must not miss this wake: it
  // either sees 1 when it re-checks, or is woken. A lost wake shows as exit code 2 (its
  // 20 s timeout).
  word->store(1);
  platform::wake_on_address(*word);
  CHECK(waiter.wait(60s) == std::optional<int>(0));
}

TEST_CASE("liveness tokens: a terminated holder's token reads dead; ours is alive until released") {
  const platform::LivenessToken mine = platform::current_liveness_token();
  CHECK(mine != platform::kNoLivenessToken);
  CHECK(platform::token_liveness(mine) == platform::Liveness::alive);
  CHECK(platform::token_liveness(platform::kNoLivenessToken) == platform::Liveness::dead);
  CHECK(platform::token_liveness(0x0123456789abcdefull) == platform::Liveness::dead);

  test::ReadyPipe ready;
  test::Child holder(kHelper, {"hold-token", std::to_string(ready.write_fd())});
  ready.close_write();
  const auto line = ready.read_line();
  REQUIRE(line);
  REQUIRE(line->rfind("token=", 0) == 0);
  const platform::LivenessToken t = std::stoull(line->substr(6), nullptr, 16);
  CHECK(t != mine);
  CHECK(platform::token_liveness(t) == platform::Liveness::alive);
  CHECK(platform::liveness_token_pid(t).has_value());
  holder.kill(9);  // TerminateProcess
  REQUIRE(holder.wait(30s) == std::optional<int>(128 + 9));
  // Windows releases a dead process's file locks "promptly, depending on system resources".
  platform::Liveness seen = platform::Liveness::alive;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((seen = platform::token_liveness(t)) != platform::Liveness::dead && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling a lock the OS will release: no event to wait on
  }
  CHECK(seen == platform::Liveness::dead);

  platform::release_liveness_token();
  CHECK(platform::token_liveness(mine) == platform::Liveness::dead);
  CHECK(platform::current_liveness_token() != mine);
}

TEST_CASE("a dead process is not alive, a live one is; PID reuse cannot fool it") {
  const auto name = test::unique_name("alive");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  test::ReadyPipe ready;
  test::Child child(kHelper, {"hold", name, std::to_string(ready.write_fd())});
  ready.close_write();
  REQUIRE(ready.read_line(60s) == std::optional<std::string>("holding"));
  const auto pid = static_cast<std::uint64_t>(child.pid());
  const auto start = platform::process_start_time(pid);
  REQUIRE(start.has_value());
  CHECK(platform::is_alive({pid, *start}));
  CHECK_FALSE(platform::is_alive({pid, *start + 1}));  // another process under the same pid
  child.kill(9);
  REQUIRE(child.wait(30s).has_value());
  // Our test::Child still holds a handle to it (Windows' zombie): it must count as dead.
  CHECK_FALSE(platform::is_alive({pid, *start}));
}

TEST_CASE("a segment lives while some process holds it, and goes with the last holder") {
  const auto name = test::unique_name("life");
  {
    SharedMemory shm(name, SharedMemoryMode::Create, 64);
    shm.write_bytes(bytes_of("kept-alive-by-the-child"));
    test::ReadyPipe ready;
    test::Child holder(kHelper, {"hold", name, std::to_string(ready.write_fd())});
    ready.close_write();
    REQUIRE(ready.read_line(60s) == std::optional<std::string>("holding"));
    // remove() cannot delete a Windows mapping: it reports that the name exists.
    CHECK(SharedMemory::remove(name));
    {
      SharedMemory gone = std::move(shm);  // closes our handle at the end of this block
    }
    CHECK(platform::MappedObject::exists(name));  // the child still holds it
    CHECK(run_helper({"read", name, "kept-alive-by-the-child"}) == 0);
    holder.kill(9);
    REQUIRE(holder.wait(30s).has_value());
  }
  CHECK_FALSE(platform::MappedObject::exists(name));
  CHECK_FALSE(SharedMemory::remove(name));
}
