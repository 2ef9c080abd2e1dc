// The other process of the Windows multi-process tests (started with CreateProcess by
// test::Child).
//
//   win_helper write NAME TEXT          writes TEXT (bytes) into SharedMemory NAME; exit 0
//   win_helper read NAME TEXT           exit 0 if SharedMemory NAME holds TEXT, 3 if not
//   win_helper hold-lock NAME FD        claims a write, half-fills it, "locked" on FD, waits to be killed
//   win_helper wait-word NAME OFFSET FD "waiting" on FD, then sleeps on the word at OFFSET of
//                                       the mapped object NAME until it is non-zero:
//                                       exit 0 if woken, 2 on a 20 s timeout
//   win_helper ring-read NAME COUNT FD  reads COUNT checked messages (writer 0) with blocking
//                                       reads; "reading" on FD once registered; exit 0 if all arrived intact
//   win_helper ring-write NAME COUNT    writes COUNT checked messages (writer 0); exit 0
//   win_helper hold NAME FD             opens SharedMemory NAME, "holding" on FD, waits to be killed
//   win_helper os-name NAME             prints MappedObject::os_name(NAME)
//   win_helper hold-token FD            takes a liveness token, "token=<hex>" on FD, waits to be killed
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ring_message.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/liveness.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/common/platform/wait.hpp"
#include "stella/ring.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

using namespace stella;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}

int wait_word(const std::string& name, std::size_t offset, int fd) {
  auto obj = platform::MappedObject::open(name, platform::Access::read_write);
  auto* word = reinterpret_cast<std::atomic<std::uint32_t>*>(static_cast<std::byte*>(obj.data()) + offset);
  test::signal_ready(fd, "waiting");
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (word->load() == 0) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= 0s) return 2;
    if (platform::wait_on_address(*word, 0, left) == platform::WaitResult::timed_out) return 2;
  }
  return 0;
}

int ring_read(const std::string& name, std::uint64_t count, int fd) {
  ReaderOptions options;
  options.spin_iterations = 10;  // sleep early: exercise the cross-process wake
  LockFreeBufferReader reader(name, options);
  test::signal_ready(fd, "reading");
  test::MessageChecker checker(1, count, true);
  std::vector<std::byte> msg;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (reader.read_bytes(msg, 60s) != ReadResult::Ok) {
      std::fprintf(stderr, "ring-read: timed out after %llu messages\n", static_cast<unsigned long long>(i));
      return 2;
    }
    checker.check(msg);
  }
  if (checker.torn() != 0 || checker.order_errors() != 0 || !checker.complete()) {
    std::fprintf(stderr, "ring-read: torn=%llu order_errors=%llu %s\n", static_cast<unsigned long long>(checker.torn()),
                 static_cast<unsigned long long>(checker.order_errors()), checker.shares().c_str());
    return 3;
  }
  return 0;
}

int ring_write(const std::string& name, std::uint64_t count) {
  MultiWriterCircularBuffer writer(name, SharedMemoryMode::Open);
  std::vector<std::byte> msg;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    msg.resize(test::message_size(0, seq, test::kMessageHead, 200));
    test::fill_message(msg, 0, seq);
    if (writer.write_bytes(msg, 60s) != WriteResult::Ok) return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 3 && args[0] == "write") {
      SharedMemory shm(args[1], SharedMemoryMode::Open);
      shm.write_bytes(bytes_of(args[2]));
      return 0;
    }
    if (args.size() == 3 && args[0] == "read") {
      const SharedMemory shm = SharedMemory::open_read_only(args[1]);
      return shm.read_bytes() == bytes_of(args[2]) ? 0 : 3;
    }
    if (args.size() == 3 && args[0] == "hold-lock") {
      SharedMemory shm(args[1], SharedMemoryMode::Open);
      auto claim = shm.claim(shm.capacity());
      auto data = claim.data();
      for (std::size_t i = 0; i < data.size() / 2; ++i) data[i] = std::byte{0xEE};
      test::signal_ready(std::stoi(args[2]), "locked");
      ::Sleep(INFINITE);  // terminated by the test, the lock still held
    }
    if (args.size() == 4 && args[0] == "wait-word") return wait_word(args[1], std::stoul(args[2]), std::stoi(args[3]));
    if (args.size() == 4 && args[0] == "ring-read") return ring_read(args[1], std::stoull(args[2]), std::stoi(args[3]));
    if (args.size() == 3 && args[0] == "ring-write") return ring_write(args[1], std::stoull(args[2]));
    if (args.size() == 3 && args[0] == "hold") {
      const SharedMemory shm = SharedMemory::open_read_only(args[1]);
      test::signal_ready(std::stoi(args[2]), "holding");
      ::Sleep(INFINITE);
    }
    if (args.size() == 2 && args[0] == "hold-token") {
      char hex[24];
      std::snprintf(hex, sizeof hex, "%016llx",
                    static_cast<unsigned long long>(platform::current_liveness_token()));
      test::signal_ready(std::stoi(args[1]), std::string("token=") + hex);
      ::Sleep(INFINITE);  // terminated by the test, the token still held
    }
    if (args.size() == 2 && args[0] == "os-name") {
      std::printf("%s\n", platform::MappedObject::os_name(args[1]).c_str());
      return 0;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "win_helper: %s [%s]\n", e.what(), std::string(to_string(e.code())).c_str());
    return 1;
  }
  std::fprintf(stderr, "win_helper: bad arguments\n");
  return 64;
}
