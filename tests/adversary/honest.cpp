// The honest processes of tests/adversary, running while the hostile one damages the segment.
//   honest blob-writer NAME AFTER READY_FD DAMAGED_FD
//   honest blob-reader NAME AFTER READY_FD DAMAGED_FD
//   honest ring-writer NAME AFTER_MS READY_FD DAMAGED_FD
//   honest ring-reader NAME AFTER_MS READY_FD DAMAGED_FD
// Each opens NAME (the reader read-only), says "ready" on READY_FD, then writes (or reads)
// self-checking values in a loop until DAMAGED_FD reaches end of file (the test closes it
// once the hostile process is done), and AFTER more times after that, so every run works
// on the damaged segment. Errors (a corrupt report) are counted, never fatal; a reader
// stops after a few (each costs it a bounded 2^20 retries).
// ok_after (ring roles): of ok, those after the damage. With FINISH_FD, a ring role says
// "ready" again once it has printed its RESULT and keeps its slot until FINISH_FD reaches EOF.
// A value is 8 bytes of sequence number s, then 8..200 bytes each (s * 31 + i) & 0xff, then
// an 8-byte FNV-1a of all that: a torn or forged value fails the check.
// The ring roles run AFTER_MS milliseconds after the damage instead of AFTER operations;
// each write or read waits at most 50 ms (a hang is a call that does not return), and their
// recovery timeout is 100 ms. A writer's timeouts count as `timeouts`.
// RESULT ok=<values that checked out> bad=<values that did not> oversize=<values above the
//        capacity: must never happen> errors=<stella::Error caught> last_error=<its code>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stella/common/error.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

namespace {

constexpr std::uint64_t kEnoughErrors = 3;

std::uint64_t fnv(const std::byte* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<std::uint8_t>(p[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::vector<std::byte> make_value(std::uint64_t s) {
  const std::size_t body = 8 + s % 193;
  std::vector<std::byte> v(8 + body + 8);
  std::memcpy(v.data(), &s, 8);
  for (std::size_t i = 0; i < body; ++i) v[8 + i] = static_cast<std::byte>((s * 31 + i) & 0xff);
  const std::uint64_t h = fnv(v.data(), 8 + body);
  std::memcpy(v.data() + 8 + body, &h, 8);
  return v;
}

bool check_value(const std::vector<std::byte>& v) {
  if (v.size() < 24) return false;
  std::uint64_t s = 0;
  std::memcpy(&s, v.data(), 8);
  return v == make_value(s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: honest blob-writer|blob-reader|ring-writer|ring-reader NAME AFTER READY_FD DAMAGED_FD [FINISH_FD]\n");
    return 2;
  }
  const std::string cmd = argv[1], name = argv[2];
  const std::uint64_t count = std::strtoull(argv[3], nullptr, 10);
  const int ready_fd = std::atoi(argv[4]);
  const int damaged_fd = std::atoi(argv[5]);
  auto ready = [&] { stella::test::signal_ready(ready_fd, "ready"); };
  // How many more operations to run: unlimited until the damage is done, then AFTER.
  std::uint64_t remaining = 0;
  bool damaged = false;
  auto keep_going = [&]() -> bool {
    if (!damaged) {
      pollfd p{damaged_fd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        damaged = true;  // end of file: the hostile process has finished
        remaining = count;
      }
      return true;
    }
    return remaining-- > 0;
  };
  std::uint64_t ok = 0, bad = 0, errors = 0, oversize = 0, oversize_or_timeouts = 0;
  std::string last_error = "none";
  try {
    if (cmd == "blob-writer") {
      stella::SharedMemory shm(name, stella::SharedMemoryMode::Open);
      ready();
      for (std::uint64_t s = 1; keep_going(); ++s) {
        try {
          shm.write_bytes(make_value(s));
          ++ok;
        } catch (const stella::Error& e) {
          ++errors;
          last_error = std::string(stella::to_string(e.code()));
        }
      }
    } else if (cmd == "blob-reader") {
      stella::SharedMemory shm = stella::SharedMemory::open_read_only(name);
      ready();
      std::vector<std::byte> v;
      // A few corrupt reports are proof enough: each one costs a bounded 2^20 retries.
      while (keep_going() && errors < kEnoughErrors) {
        try {
          if (!shm.try_read_bytes_into(v)) continue;
          if (v.size() > shm.capacity()) {
            ++oversize;
          } else if (check_value(v)) {
            ++ok;
          } else {
            ++bad;
          }
        } catch (const stella::Error& e) {
          ++errors;
          last_error = std::string(stella::to_string(e.code()));
        }
      }
    } else if (cmd == "ring-writer" || cmd == "ring-reader") {
      using Clock = std::chrono::steady_clock;
      std::optional<Clock::time_point> until;
      std::uint64_t ok_after = 0;  // after the damage
      auto ring_going = [&]() -> bool {
        if (!until) {
          pollfd p{damaged_fd, POLLIN, 0};
          if (::poll(&p, 1, 0) > 0) until = Clock::now() + std::chrono::milliseconds(count);
          return true;
        }
        return Clock::now() < *until;
      };
      // Kept until the end: the slots stay taken while the test looks at the status.
      std::unique_ptr<stella::MultiWriterCircularBuffer> writer;
      std::unique_ptr<stella::LockFreeBufferReader> reader;
      if (cmd == "ring-writer") {
        stella::RingOptions o;
        o.recovery_timeout = std::chrono::milliseconds(100);
        writer = std::make_unique<stella::MultiWriterCircularBuffer>(name, stella::SharedMemoryMode::Open, 0,
                                                                     stella::WriteBehavior::Overwrite, o);
        auto& w = *writer;
        ready();
        for (std::uint64_t s = 1; ring_going(); ++s) {
          try {
            if (w.write_bytes(make_value(s), std::chrono::milliseconds(50)) == stella::WriteResult::Ok) {
              ++ok;
              if (until) ++ok_after;
            } else {
              ++oversize_or_timeouts;
            }
          } catch (const stella::Error& e) {
            ++errors;
            last_error = std::string(stella::to_string(e.code()));
          }
        }
      } else {
        stella::ReaderOptions o;
        o.recovery_timeout = std::chrono::milliseconds(100);
        reader = std::make_unique<stella::LockFreeBufferReader>(name, o);
        auto& r = *reader;
        ready();
        std::vector<std::byte> v;
        while (ring_going()) {
          try {
            if (r.read_bytes(v, std::chrono::milliseconds(50)) != stella::ReadResult::Ok) continue;
            if (check_value(v)) {
              ++ok;
              if (until) ++ok_after;
            } else {
              ++bad;
            }
          } catch (const stella::Error& e) {
            ++errors;
            last_error = std::string(stella::to_string(e.code()));
          }
        }
      }
      std::printf("RESULT ok=%llu ok_after=%llu bad=%llu oversize=0 timeouts=%llu errors=%llu last_error=%s\n",
                  static_cast<unsigned long long>(ok), static_cast<unsigned long long>(ok_after),
                  static_cast<unsigned long long>(bad),
                  static_cast<unsigned long long>(oversize_or_timeouts), static_cast<unsigned long long>(errors),
                  last_error.c_str());
      std::fflush(stdout);
      if (argc == 7) {  // keep our slot until the test has looked at the status
        ready();
        const int finish_fd = std::atoi(argv[6]);
        char c;
        while (::read(finish_fd, &c, 1) > 0) {
        }
      }
      return 0;
    } else {
      return 2;
    }
  } catch (const stella::Error& e) {
    ready();  // refused at open: nothing more to do
    std::printf("RESULT ok=0 bad=0 oversize=0 errors=1 last_error=%s open_failed=1\n",
                std::string(stella::to_string(e.code())).c_str());
    return 0;
  }
  std::printf("RESULT ok=%llu bad=%llu oversize=%llu errors=%llu last_error=%s\n", static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(bad), static_cast<unsigned long long>(oversize),
              static_cast<unsigned long long>(errors), last_error.c_str());
  return 0;
}
