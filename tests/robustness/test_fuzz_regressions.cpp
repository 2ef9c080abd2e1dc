// Regression tests for bugs the fuzzers found in common/ (now fixed). Each runs its
// scenario in a child process (a hang is killed after 5 s) and asserts the behaviour the
// design promises; the same inputs stay in tests/fuzz/corpus/fuzz_ring_reader/bug-*, which
// scripts/fuzz.sh replays first.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "robustness_util.hpp"
#include "stella/common/error.hpp"
#include "stella/common/ring.hpp"

namespace ring = stella::ring;
using stella::robustness::run_in_child;

namespace {

struct Area {
  std::byte* bytes = nullptr;
  std::uint64_t size = 0;
  explicit Area(const ring::RingParams& p) : size(ring::area_size(p)) {
    bytes = static_cast<std::byte*>(::operator new[](size, std::align_val_t{64}));
    std::memset(bytes, 0, size);
    ring::initialize(bytes, size, p);
  }
  ~Area() { ::operator delete[](bytes, std::align_val_t{64}); }
  Area(const Area&) = delete;
  Area& operator=(const Area&) = delete;
};

ring::ReaderOptions quick(ring::StartPosition start) {
  ring::ReaderOptions o;
  o.start = start;
  o.timing.spin_iterations = 2;
  o.timing.recovery_timeout = std::chrono::milliseconds(1);
  return o;
}

constexpr int kCorrupt = 0;
constexpr int kOtherStatus = 1;

}  // namespace

TEST_CASE("regression A: a reader opening at the oldest record of a ring whose tail is laps ahead of what was "
          "written must not hang") {
  // corpus/fuzz_ring_reader/bug-place-cursor-hang (v1: place_cursor retried forever on a
  // tail_intent more than a lap past head; v2 has neither: the tail alone places it).
  const int code = run_in_child(
      [] {
        Area a({4096, 1, 1, ring::WriteBehavior::overwrite, {}});
        ring::RingView v = ring::attach_area("bug-a", a.bytes, a.size);
        v.control->tail.store(3 * 4096 + 64);
        // Either the reader's constructor refuses the ring (Error corrupt), or reads say so.
        try {
          ring::RingReader r(v, quick(ring::StartPosition::oldest));
          std::vector<std::byte> out;
          const auto st = r.try_read(out);
          return st == ring::ReadStatus::corrupt || st == ring::ReadStatus::empty ? kCorrupt : kOtherStatus;
        } catch (const stella::Error& e) {
          return e.code() == stella::Errc::corrupt ? kCorrupt : kOtherStatus;
        }
      },
      5);
  CHECK_MESSAGE(code == kCorrupt, "child exit ", code, " (-1: hung and was killed)");
}

TEST_CASE("regression B: a tail that is not on a record boundary (16 bytes) must be reported corrupt, not "
          "dereferenced as a misaligned RecordHeader") {
  // corpus/fuzz_ring_reader/bug-misaligned-head. UBSan: "member access within misaligned
  // address ... for type 'const stella::ring::RecordHeader'" in place_cursor; a misaligned
  // 8-byte atomic is undefined behaviour (a split lock on x86, SIGBUS on strict-alignment
  // CPUs). Visible under -fsanitize=undefined (the ASan+UBSan build of scripts/test.sh).
  const int code = run_in_child(
      [] {
        Area a({4096, 1, 1, ring::WriteBehavior::overwrite, {}});
        ring::RingView v = ring::attach_area("bug-b", a.bytes, a.size);
        v.control->tail.store(4096 + 4);
        // Either the reader's constructor refuses the ring (Error corrupt), or reads say so.
        try {
          ring::RingReader r(v, quick(ring::StartPosition::oldest));
          std::vector<std::byte> out;
          return r.try_read(out) == ring::ReadStatus::corrupt ? kCorrupt : kOtherStatus;
        } catch (const stella::Error& e) {
          return e.code() == stella::Errc::corrupt ? kCorrupt : kOtherStatus;
        }
      },
      5);
  CHECK_MESSAGE(code == kCorrupt, "child exit ", code, " (128+n: killed by signal n, e.g. a UBSan abort)");
}

TEST_CASE("regression C: reading a zero-length message into an empty vector is not undefined behaviour") {
  // corpus/fuzz_ring_reader/bug-empty-message-memcpy-null. ring.cpp copy_out calls
  // memcpy(out->data(), payload, 0) with out->data() == nullptr: UBSan "null pointer passed
  // as argument 1, which is declared to never be null". Reachable without any corruption:
  // a writer may commit an empty message. Visible under -fsanitize=undefined.
  const int code = run_in_child(
      [] {
        Area a({4096, 1, 1, ring::WriteBehavior::overwrite, {}});
        ring::RingView v = ring::attach_area("bug-c", a.bytes, a.size);
        ring::RingWriter w(v, ring::Timing{});
        ring::RingReader r(v, quick(ring::StartPosition::oldest));
        ring::Reservation res;
        if (w.reserve(0, std::nullopt, false, res) != ring::WriteStatus::ok) return 2;
        w.commit(res);
        std::vector<std::byte> out;  // no storage: data() is null
        return r.try_read(out) == ring::ReadStatus::ok && out.empty() ? kCorrupt : kOtherStatus;
      },
      5);
  CHECK_MESSAGE(code == 0, "child exit ", code, " (128+n: killed by signal n, e.g. a UBSan abort)");
}
