// A real process for the `stella` tool tests: holds a reader or writer slot of a ring, or
// streams messages into it, until it is killed.
//   tool_proc reader RING READY_FD     take a reader slot, say "ready", wait to be killed
//   tool_proc writer RING READY_FD     take a writer slot, say "ready", wait to be killed
//   tool_proc stream RING READY_FD     write "m<n>" every millisecond until killed
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "stella/stella.hpp"
#include "test_support.hpp"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
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
  for (std::uint64_t n = 0;; ++n) {
    const std::string m = "m" + std::to_string(n);
    (void)writer.try_write_bytes(std::as_bytes(std::span(m.data(), m.size())));
    // A steady rate for `stella hz` to measure, not a synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
