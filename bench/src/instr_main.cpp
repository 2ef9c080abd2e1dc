// stella-bench-instr: a deterministic figure for the hot path — instructions per message
// written and read — measured by running this one-process loop under callgrind:
//
//   valgrind --tool=callgrind --collect-atstart=no stella-bench-instr [MESSAGES]
//
// For each variant (spsc-ring and Stella's ring in Block and Overwrite mode, each through
// its copying and its zero-copy API) it writes MESSAGES 64-byte messages, then reads them,
// once to warm up (page faults, lazy symbol binding, first-use branches) and once measured:
// callgrind collects only inside the measured loops (CALLGRIND_TOGGLE_COLLECT) and dumps
// each loop's cost under the label "<variant>:<write|read>" (CALLGRIND_DUMP_STATS_AT).
// stella-bench runs it and divides each dump's instruction count by MESSAGES.
// Outside valgrind the client requests do nothing and the program only checks itself.
#include <valgrind/callgrind.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "stella/ring.hpp"

#include "baselines/spsc_ring.hpp"

namespace {

constexpr std::size_t kMessageBytes = 64;
constexpr std::size_t kRingCapacity = 1u << 20;  // as stella-bench's default --ring-capacity
constexpr std::size_t kHeaderBytes = 8;          // the harness's sequence header

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "stella-bench-instr: %s\n", what.c_str());
  std::exit(1);
}

template <class Loop>
void measure(const std::string& label, Loop&& loop) {
  CALLGRIND_TOGGLE_COLLECT;
  loop();
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(label.c_str());
}

// Writes then reads `n` messages twice (warm-up, measured); the reads check every sequence.
template <class Write, class Read>
void run_variant(const std::string& name, std::size_t n, Write&& write, Read&& read) {
  std::uint64_t next = 0;
  std::uint64_t expected = 0;
  std::uint64_t bad = 0;
  auto write_all = [&] {
    for (std::size_t i = 0; i < n; ++i) write(next++);
  };
  auto read_all = [&] {
    for (std::size_t i = 0; i < n; ++i) bad += read() != expected++ ? 1 : 0;
  };
  write_all();
  read_all();
  measure(name + ":write", write_all);
  measure(name + ":read", read_all);
  if (bad != 0) fail(name + ": " + std::to_string(bad) + " messages read back wrong");
}

void put_header(std::byte* p, std::uint64_t sequence) { std::memcpy(p, &sequence, sizeof sequence); }

std::uint64_t get_header(const std::byte* p) {
  std::uint64_t sequence = 0;
  std::memcpy(&sequence, p, sizeof sequence);
  return sequence;
}

void spsc_variants(std::size_t n) {
  std::vector<std::byte> memory(stella::bench::spsc::mapping_size(kRingCapacity) + stella::bench::spsc::kCacheLine);
  void* base = memory.data() + (stella::bench::spsc::kCacheLine -
                                reinterpret_cast<std::uintptr_t>(memory.data()) % stella::bench::spsc::kCacheLine);
  for (bool zero_copy : {false, true}) {
    stella::bench::spsc::initialize(base, kRingCapacity);
    stella::bench::spsc::Writer writer(base);
    stella::bench::spsc::Reader reader(base, false);
    std::vector<std::byte> message(kMessageBytes, std::byte{0x5a});
    std::vector<std::byte> in(kMessageBytes);
    if (zero_copy) {
      run_variant(
          "spsc-ring:zero-copy", n,
          [&](std::uint64_t seq) {
            std::span<std::byte> space = writer.claim(kMessageBytes);
            put_header(space.data(), seq);
            std::memset(space.data() + kHeaderBytes, 0x5a, kMessageBytes - kHeaderBytes);
            writer.commit();
          },
          [&] {
            const std::uint64_t seq = get_header(reader.peek().data());
            reader.release();
            return seq;
          });
    } else {
      run_variant(
          "spsc-ring:copy", n,
          [&](std::uint64_t seq) {
            put_header(message.data(), seq);
            writer.send(message);
          },
          [&] {
            reader.receive(in.data());
            return get_header(in.data());
          });
    }
  }
}

void stella_variants(std::size_t n, stella::WriteBehavior behavior, const std::string& mode) {
  for (bool zero_copy : {false, true}) {
    const std::string name = "stella-instr-" + std::to_string(::getpid()) + "-" + mode + (zero_copy ? "-zc" : "");
    stella::MultiWriterCircularBuffer::remove(name);
    {
      stella::MultiWriterCircularBuffer writer(name, stella::SharedMemoryMode::Create, kRingCapacity, behavior);
      stella::LockFreeBufferReader reader(name);
      std::vector<std::byte> message(kMessageBytes, std::byte{0x5a});
      std::vector<std::byte> in;
      if (zero_copy) {
        run_variant(
            "stella-" + mode + ":zero-copy", n,
            [&](std::uint64_t seq) {
              auto claim = writer.try_claim(kMessageBytes);
              if (!claim) fail("try_claim: no space");
              put_header(claim->data().data(), seq);
              std::memset(claim->data().data() + kHeaderBytes, 0x5a, kMessageBytes - kHeaderBytes);
              claim->commit();
            },
            [&] {
              auto view = reader.try_peek();
              if (!view) fail("try_peek: nothing to read");
              const std::uint64_t seq = get_header(view->data().data());
              if (!reader.release()) fail("release: overwritten");
              return seq;
            });
      } else {
        run_variant(
            "stella-" + mode + ":copy", n,
            [&](std::uint64_t seq) {
              put_header(message.data(), seq);
              if (writer.try_write_bytes(message) != stella::WriteResult::Ok) fail("try_write_bytes: no space");
            },
            [&] {
              if (!reader.try_read_bytes(in)) fail("try_read_bytes: nothing to read");
              return get_header(in.data());
            });
      }
    }
    stella::MultiWriterCircularBuffer::remove(name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4096;
  // Both passes must fit: no variant may wait for space or overwrite what it has not read.
  if (n == 0 || 2 * n * 96 > kRingCapacity) fail("MESSAGES must be between 1 and " + std::to_string(kRingCapacity / 192));
  try {
    spsc_variants(n);
    stella_variants(n, stella::WriteBehavior::Block, "block");
    stella_variants(n, stella::WriteBehavior::Overwrite, "overwrite");
  } catch (const std::exception& e) {
    fail(e.what());
  }
  std::printf("stella-bench-instr: %zu messages of %zu B per variant, all read back in order\n", n, kMessageBytes);
  return 0;
}
