// Chaos test: 4 writers and 3 readers exchange checksummed, sequenced messages while a
// killer sends SIGKILL to a random writer or reader every 10-50 ms and respawns it.
//
//   ring_chaos --proc PATH/ring_proc [--duration S] [--mode block|overwrite]
//              [--recovery-ms N] [--stall-slack-ms N] [--seed N] [--open NAME]
//
// --open NAME uses an existing ring (e.g. one stellad created, for scripts/soak.sh)
// instead of creating its own; --mode must then match the ring's.
//
// Asserts (exit status 1 and a FAIL line otherwise):
//  - no reader ever gets a torn or corrupt message (readers exit 10 at once if one does);
//  - no stall (no new record reserved in the ring) lasts longer than the recovery timeout
//    plus the stated slack;
//  - Block mode: the surviving reader, registered before the first write, gets every
//    committed message exactly once and in order per writer (a gap would be a lost
//    committed message); at the end four final writers' messages all arrive.
// One reader survives the whole run; the two others and all writers are fair game.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "stella/common/ring.hpp"
#include "ring_message.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using Clock = std::chrono::steady_clock;

namespace {

const char* arg(int argc, char** argv, const char* flag, const char* fallback) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  }
  return fallback;
}

struct Proc {
  std::unique_ptr<test::Child> child;
  bool reader = false;
  std::uint32_t id = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string proc = arg(argc, argv, "--proc", "");
  const double duration = std::atof(arg(argc, argv, "--duration", "30"));
  const bool block = std::string(arg(argc, argv, "--mode", "block")) == "block";
  const std::string recovery_ms = arg(argc, argv, "--recovery-ms", "200");
  const long slack_ms = std::atol(arg(argc, argv, "--stall-slack-ms", "3000"));
  const long seed_arg = std::atol(arg(argc, argv, "--seed", "0"));
  const auto seed = static_cast<unsigned>(seed_arg != 0 ? seed_arg : ::getpid());
  if (proc.empty()) {
    std::fprintf(stderr, "usage: ring_chaos --proc PATH [--duration S] [--mode block|overwrite]\n");
    return 2;
  }
  const std::string existing = arg(argc, argv, "--open", "");
  const std::string name = existing.empty() ? test::unique_name(block ? "chaos-block" : "chaos-over") : existing;
  std::vector<std::string> owned;
  if (existing.empty()) owned.push_back(name);
  test::SegmentCleanup cleanup(owned);
  RingOptions ro;
  ro.recovery_timeout = std::chrono::milliseconds(std::atol(recovery_ms.c_str()));
  MultiWriterCircularBuffer ring(name, existing.empty() ? SharedMemoryMode::Create : SharedMemoryMode::Open, 1 << 16,
                                 block ? WriteBehavior::Block : WriteBehavior::Overwrite, ro);
  if ((ring.behavior() == WriteBehavior::Block) != block) {
    std::fprintf(stderr, "ring_chaos: --mode does not match the ring's write behaviour\n");
    return 2;
  }
  const std::uint64_t tail_at_start = ring.core().view().control->tail.load();
  const ring::RingControl& control = *ring.core().view().control;
  std::mt19937 rng(seed);
  std::printf("chaos: %s mode, %.0f s, seed %u, recovery %s ms\n", block ? "block" : "overwrite", duration, seed,
              recovery_ms.c_str());
  std::fflush(stdout);

  test::ReadyPipe ready;
  const std::string final_args[] = {"--final-base", "1000000", "--final-writers", "4", "--final-count", "2000"};
  auto reader_args = [&](bool survivor) {
    std::vector<std::string> a{"chaos-reader", name, "--recovery-ms", recovery_ms, "--ready-fd",
                               std::to_string(ready.write_fd())};
    a.insert(a.end(), std::begin(final_args), std::end(final_args));
    if (survivor) a.push_back("--from-zero");
    if (block && survivor) a.push_back("--block");  // late joiners may find their start overwritten
    return a;
  };
  const std::string survivor_out = test::temp_path("survivor");
  test::Child survivor(proc, reader_args(true), survivor_out);
  if (ready.read_line() != std::optional<std::string>("ready")) return 1;

  std::uint32_t next_writer_id = 0;
  auto spawn_writer = [&](std::uint32_t id, const std::string& count) {
    std::vector<std::string> a{"writer", name, std::to_string(id), count, "24", "300", "--recovery-ms", recovery_ms};
    if (id % 2 == 1) a.push_back("--claim");
    Proc p;
    p.child = std::make_unique<test::Child>(proc, a, "/dev/null");
    p.id = id;
    return p;
  };
  auto spawn_reader = [&] {
    Proc p;
    p.child = std::make_unique<test::Child>(proc, reader_args(false), "/dev/null");
    p.reader = true;
    if (ready.read_line() != std::optional<std::string>("ready")) std::fprintf(stderr, "reader did not start\n");
    return p;
  };
  std::vector<Proc> victims;
  for (int i = 0; i < 2; ++i) victims.push_back(spawn_reader());
  for (int i = 0; i < 4; ++i) victims.push_back(spawn_writer(next_writer_id++, "1000000000"));

  // Stall monitor: the longest time the ring's tail did not move.
  std::atomic<bool> stop{false};
  std::atomic<long> max_stall_ms{0};
  std::thread monitor([&] {
    std::uint64_t last = control.tail.load();
    auto since = Clock::now();
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // sampling period
      const std::uint64_t t = control.tail.load();
      const auto now = Clock::now();
      if (t != last) {
        last = t;
        since = now;
      } else {
        const long ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count());
        if (ms > max_stall_ms.load()) max_stall_ms.store(ms);
      }
    }
  });

  bool failed = false;
  std::uint64_t writer_kills = 0, reader_kills = 0;
  const auto end = Clock::now() + std::chrono::milliseconds(static_cast<long>(duration * 1000));
  std::uniform_int_distribution<int> pause_ms(10, 50);
  while (Clock::now() < end && !failed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));  // the killer's cadence
    for (auto& v : victims) {  // a victim that exited by itself failed a check
      if (!v.child->running()) {
        std::printf("FAIL: %s %u exited on its own with %d\n", v.reader ? "reader" : "writer", v.id,
                    v.child->wait().value_or(-1));
        failed = true;
      }
    }
    if (!survivor.running()) {
      std::printf("FAIL: the surviving reader exited early with %d\n", survivor.wait().value_or(-1));
      failed = true;
    }
    Proc& victim = victims[std::uniform_int_distribution<std::size_t>(0, victims.size() - 1)(rng)];
    victim.child->kill(SIGKILL);
    victim.child->wait();
    if (victim.reader) {
      ++reader_kills;
      victim = spawn_reader();
    } else {
      ++writer_kills;
      victim = spawn_writer(next_writer_id++, "1000000000");
    }
  }
  // End of the chaos: the remaining writers go, four final writers finish cleanly, and
  // every reader must then get all of the final writers' messages.
  for (auto& v : victims) {
    if (!v.reader) {
      v.child->kill(SIGKILL);
      v.child->wait();
    }
  }
  std::vector<Proc> finals;
  for (std::uint32_t i = 0; i < 4; ++i) finals.push_back(spawn_writer(1000000 + i, "2000"));
  for (auto& f : finals) {
    if (f.child->wait(std::chrono::minutes(2)) != std::optional<int>(0)) {
      std::printf("FAIL: final writer %u did not finish\n", f.id);
      failed = true;
    }
  }
  stop = true;
  monitor.join();
  // End markers after the final writers, until every reader has finished: in Overwrite mode
  // they are how a reader that may have lost the final messages knows the run is over.
  std::uint64_t marker_seq = 0;
  std::vector<std::byte> marker;
  auto readers_running = [&] {
    bool any = survivor.running();
    for (auto& v : victims) any = any || (v.reader && v.child->running());
    return any;
  };
  const auto marker_deadline = Clock::now() + std::chrono::minutes(2);
  while (readers_running() && Clock::now() < marker_deadline) {
    marker.resize(test::message_size(test::kEndMarker, marker_seq, 24, 24));
    test::fill_message(marker, test::kEndMarker, marker_seq);
    if (ring.try_write_bytes(marker) == WriteResult::Ok) ++marker_seq;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // pacing of the markers
  }
  for (auto& v : victims) {
    if (v.reader && v.child->wait(std::chrono::minutes(2)) != std::optional<int>(0)) {
      std::printf("FAIL: a late reader did not finish cleanly\n");
      failed = true;
    }
  }
  const auto survivor_rc = survivor.wait(std::chrono::minutes(2));
  const std::string report = test::read_file(survivor_out);
  std::remove(survivor_out.c_str());
  if (survivor_rc != std::optional<int>(0)) {
    std::printf("FAIL: the surviving reader reported a problem (exit %d): %s\n", survivor_rc.value_or(-1),
                report.c_str());
    failed = true;
  }
  const long limit = std::atol(recovery_ms.c_str()) + slack_ms;
  if (max_stall_ms.load() > limit) {
    std::printf("FAIL: a stall of %ld ms exceeded the recovery timeout plus slack (%ld ms)\n", max_stall_ms.load(), limit);
    failed = true;
  }
  std::printf("RESULT mode=%s reserved_bytes=%llu writer_kills=%llu reader_kills=%llu max_stall_ms=%ld stall_limit_ms=%ld "
              "records_repaired=%llu reservations_given_up=%llu readers_reaped=%llu writers_reaped=%llu ok=%d\n",
              block ? "block" : "overwrite",
              static_cast<unsigned long long>(control.tail.load() - tail_at_start),
              static_cast<unsigned long long>(writer_kills),
              static_cast<unsigned long long>(reader_kills), max_stall_ms.load(), limit,
              static_cast<unsigned long long>(control.records_repaired.load()),
              static_cast<unsigned long long>(control.reservations_given_up.load()),
              static_cast<unsigned long long>(control.readers_reaped.load()),
              static_cast<unsigned long long>(control.writers_reaped.load()), failed ? 0 : 1);
  std::printf("survivor: %s", report.c_str());
  return failed ? 1 : 0;
}
