// A real process for the `stella` tool tests: holds a reader or writer slot of a ring, or
// streams messages into it, until it is killed.
//   tool_proc reader RING READY_FD     take a reader slot, say "ready", wait to be killed
//   tool_proc writer RING READY_FD     take a writer slot, say "ready", wait to be killed
//   tool_proc stream RING READY_FD     write "m<n>" every millisecond until killed
//   tool_proc burst RING READY_FD N    write N checksummed messages (tests/ring/ring_message.hpp,
//                                      writer id 0) with try_write, never waiting (exit 3 if a
//                                      write would have had to), pausing 200 us every 20
//                                      messages so a reader that keeps up part of the time
//                                      sees some of them
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "../ring/ring_message.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const std::string mode = argv[1], ring = argv[2];
  const int ready_fd = std::stoi(argv[3]);
  if (mode == "reader") {
    stella::LockFreeBufferReader reader(ring);
    stella::test::signal_ready(ready_fd, "ready");
    for (;;) ::pause();
  }
  stella::MultiWriterCircularBuffer writer(ring, stella::SharedMemoryMode::Open);
  stella::test::signal_ready(ready_fd, "ready");
  if (mode == "writer") {
    for (;;) ::pause();
  }
  if (mode == "burst") {
    if (argc != 5) return 2;
    const std::uint64_t count = std::stoull(argv[4]);
    std::vector<std::byte> buf;
    for (std::uint64_t seq = 0; seq < count; ++seq) {
      buf.resize(stella::test::message_size(0, seq, 32, 1500));
      stella::test::fill_message(buf, 0, seq);
      if (writer.try_write_bytes(buf) != stella::WriteResult::Ok) return 3;
      // A rate (about 20 laps of a 4 KiB ring per pause), not a synchronisation.
      if (seq % 20 == 19) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return 0;
  }
  for (std::uint64_t n = 0;; ++n) {
    const std::string m = "m" + std::to_string(n);
    (void)writer.try_write_bytes(std::as_bytes(std::span(m.data(), m.size())));
    // A steady rate for `stella hz` to measure, not a synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
