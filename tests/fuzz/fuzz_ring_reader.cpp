// Fuzz target: a ring reader over arbitrary ring contents (issue 7).
//
// A reader facing a corrupted ring must report corruption (ReadStatus::corrupt), or
// empty/ok/timeout, and never crash, hang or touch memory outside the ring's area. The
// area is a heap buffer of exactly ring::area_size() bytes, so ASan catches any access
// outside it; libFuzzer's -timeout catches a loop that never ends.
//
// Each input builds a fresh ring with ring::initialize (small capacity, few slots), then:
//   - optionally scribbles over the immutable geometry (line 0 of RingControl) and runs
//     ring::attach_area on it, which must reject it (Errc::corrupt) or return a view whose
//     geometry fits the buffer;
//   - overwrites the reader-visible mutable fields (tail; the writer slots' counters and
//     given-up reservations, which readers consult) and the record data with fuzz bytes;
//   - constructs a RingReader (which registers in a reader slot in that memory: the slot
//     words, which only registration uses, are left consistent) and makes a bounded
//     number of try_read / try_peek / release /
//     read(0 ns) calls, optionally scribbling a few more bytes between calls (a foreign
//     process writing over the ring while we read).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "stella/common/error.hpp"
#include "stella/common/ring.hpp"

namespace ring = stella::ring;

namespace {

constexpr int kMaxCalls = 64;

struct AlignedDelete {
  void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{ring::kCacheLine}); }
};
using Area = std::unique_ptr<std::byte[], AlignedDelete>;

Area allocate(std::uint64_t bytes) {
  auto* p = static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{ring::kCacheLine}));
  std::memset(p, 0, bytes);
  return Area(p);
}

// A position: mostly near the interesting range (a few laps of a small ring), sometimes
// anything at all (near 2^64 included).
std::uint64_t fuzz_position(FuzzedDataProvider& in, std::uint64_t capacity) {
  const std::uint8_t how = in.ConsumeIntegral<std::uint8_t>();
  const std::uint64_t raw = in.ConsumeIntegral<std::uint64_t>();
  switch (how % 4) {
    case 0: return raw % (4 * capacity);
    case 1: return (raw % (4 * capacity)) & ~(ring::kRecordAlignment - 1);
    case 2: return (std::uint64_t{1} << 40) + raw % (4 * capacity);
    default: return raw;
  }
}

void touch(std::span<const std::byte> payload, const std::byte* data, std::uint64_t capacity) {
  // The payload must lie inside the data area; reading it lets ASan check the span too.
  if (payload.data() < data || payload.data() + payload.size() > data + capacity) std::abort();
  volatile std::uint8_t sum = 0;
  for (std::byte b : payload) sum = static_cast<std::uint8_t>(sum + static_cast<std::uint8_t>(b));
  (void)sum;
}

void scribble_writer(FuzzedDataProvider& in, const ring::RingView& v, std::uint64_t capacity) {
  ring::WriterSlot& w = v.writers[in.ConsumeIntegralInRange<std::uint32_t>(0, v.geo.max_writers - 1)];
  switch (in.ConsumeIntegral<std::uint8_t>() % 4) {
    case 0: w.given_up_pos.store(fuzz_position(in, capacity), std::memory_order_relaxed); break;
    case 1: w.given_up_size.store(in.ConsumeIntegral<std::uint64_t>(), std::memory_order_relaxed); break;
    case 2: w.messages_written.store(in.ConsumeIntegral<std::uint64_t>(), std::memory_order_relaxed); break;
    default: w.last_commit.store(fuzz_position(in, capacity), std::memory_order_relaxed); break;
  }
}

void scribble(FuzzedDataProvider& in, const ring::RingView& v, std::byte* data, std::uint64_t capacity,
              ring::RingControl& c) {
  switch (in.ConsumeIntegral<std::uint8_t>() % 4) {
    case 0: c.tail.store(fuzz_position(in, capacity), std::memory_order_relaxed); break;
    case 1: scribble_writer(in, v, capacity); break;
    case 2: c.reservations_given_up.fetch_add(1, std::memory_order_relaxed); break;
    default: {
      const std::uint64_t off = in.ConsumeIntegralInRange<std::uint64_t>(0, capacity - 8) & ~std::uint64_t{7};
      const std::uint64_t word = in.ConsumeIntegral<std::uint64_t>();
      std::memcpy(data + off, &word, sizeof word);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  ring::RingParams p;
  p.capacity = ring::kMinCapacity << in.ConsumeIntegralInRange<int>(0, 1);
  p.max_readers = in.ConsumeIntegralInRange<std::uint32_t>(1, 3);
  p.max_writers = in.ConsumeIntegralInRange<std::uint32_t>(1, 3);
  p.behavior = in.ConsumeBool() ? ring::WriteBehavior::block : ring::WriteBehavior::overwrite;
  const std::uint64_t area_bytes = ring::area_size(p);
  Area area = allocate(area_bytes);
  ring::initialize(area.get(), area_bytes, p);
  auto& control = *reinterpret_cast<ring::RingControl*>(area.get());

  // Immutable geometry: scribble over line 0 and let attach_area judge it.
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    const std::size_t offset = in.ConsumeIntegralInRange<std::size_t>(0, ring::kCacheLine - 8);
    const std::uint64_t word = in.ConsumeIntegral<std::uint64_t>();
    std::memcpy(area.get() + offset, &word, sizeof word);
  }
  ring::RingView view;
  try {
    view = ring::attach_area("fuzz", area.get(), area_bytes);
  } catch (const stella::Error& e) {
    if (e.code() != stella::Errc::corrupt) std::abort();
    return 0;
  }
  const std::uint64_t capacity = view.geo.capacity;
  if (ring::area_size({capacity, view.geo.max_readers, view.geo.max_writers, view.geo.behavior, {}}) > area_bytes ||
      view.data + capacity > area.get() + area_bytes) {
    std::abort();  // attach_area accepted a geometry larger than the area
  }

  // Reader-visible mutable state.
  control.tail.store(fuzz_position(in, capacity), std::memory_order_relaxed);
  if (in.ConsumeBool()) scribble_writer(in, view, capacity);
  const int start_choice = in.ConsumeIntegralInRange<int>(0, 1);
  const std::size_t call_bytes = kMaxCalls * 4;
  // The record data: fuzz bytes at a fuzz offset (the rest stays zero, i.e. type 0).
  const std::size_t data_offset = in.ConsumeIntegralInRange<std::size_t>(0, capacity - 1) & ~std::size_t{15};
  const std::size_t data_len = std::min<std::size_t>(
      capacity - data_offset, in.remaining_bytes() > call_bytes ? in.remaining_bytes() - call_bytes : 0);
  const std::vector<std::uint8_t> fill = in.ConsumeBytes<std::uint8_t>(data_len);
  if (!fill.empty()) std::memcpy(view.data + data_offset, fill.data(), fill.size());

  ring::ReaderOptions options;
  options.start = start_choice == 0 ? ring::StartPosition::oldest : ring::StartPosition::latest;
  options.timing.spin_iterations = 2;
  options.timing.recovery_timeout = std::chrono::milliseconds(1);
  try {
    ring::RingReader reader(view, options);
    std::vector<std::byte> out;
    for (int call = 0; call < kMaxCalls && in.remaining_bytes() > 0; ++call) {
      ring::ReadStatus st = ring::ReadStatus::empty;
      switch (in.ConsumeIntegralInRange<int>(0, 4)) {
        case 0:
        case 1:
          st = reader.try_read(out);
          if (st == ring::ReadStatus::ok) {
            if (out.size() > view.geo.max_message) std::abort();
          }
          break;
        case 2: {
          ring::RecordView rv;
          st = reader.try_peek(rv);
          if (st == ring::ReadStatus::ok) {
            touch(rv.payload, view.data, capacity);
            (void)reader.release();
          }
          break;
        }
        case 3:
          st = reader.read(out, std::chrono::nanoseconds(0));
          break;
        default:
          scribble(in, view, view.data, capacity, control);
          break;
      }
      if (st != ring::ReadStatus::ok && st != ring::ReadStatus::empty && st != ring::ReadStatus::corrupt &&
          st != ring::ReadStatus::timeout) {
        std::abort();  // evicted: nothing here evicts the reader
      }
    }
  } catch (const stella::Error& e) {
    // Registration may find every reader slot taken only if the slots were scribbled.
    if (e.code() != stella::Errc::slots_full && e.code() != stella::Errc::corrupt) std::abort();
  }
  return 0;
}
