// Helper process for the ring's multi-process tests. Roles:
//   writer NAME ID COUNT MIN MAX [--claim] [--go-fd FD] [--ready-fd FD] [--timeout-ms N]
//   reader NAME WRITERS PER_WRITER [--block] [--slow-us N] [--ready-fd FD] [--deadline-s N]
//   idle-reader NAME --ready-fd FD
//   stalled-reader NAME --ready-fd FD          registers, then waits to be killed
//   recover NAME [--go-fd FD]                   one recovery pass, prints what it did
//   reaper NAME --stop-fd FD [--interval-ms N]  recovery passes every N ms (as stellad's
//                                               reaper does) until FD reaches EOF; prints totals
//   chaos-reader NAME --final-base ID --final-writers N --final-count C [--from-zero] [--block]
// Writers also take --pause-at claim|midcopy (signal "paused-<where>" and wait to be
// killed) and --recovery-ms N.
// Messages carry writer id, per-writer sequence, size and a checksum over the payload;
// the reader checks every one and prints "RESULT key=value ..." on stdout.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <signal.h>

#include "ring_message.hpp"
#include "stella/common/ring.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;

namespace {

long arg_long(int argc, char** argv, const char* flag, long fallback) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return std::atol(argv[i + 1]);
  }
  return fallback;
}
bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

int g_pause_fd = -1;
const char* g_pause_at = nullptr;

void pause_hook(const char* where) {
  if (g_pause_at == nullptr || std::strcmp(where, g_pause_at) != 0) return;
  test::signal_ready(g_pause_fd, std::string("paused-") + where);
  for (;;) ::pause();  // until the test kills us
}

const char* arg_str(int argc, char** argv, const char* flag) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  }
  return nullptr;
}

RingOptions ring_options(int argc, char** argv) {
  RingOptions o;
  o.recovery_timeout = std::chrono::milliseconds(arg_long(argc, argv, "--recovery-ms", 1000));
  return o;
}

void wait_for_go(int fd) {
  if (fd < 0) return;
  char c;
  while (::read(fd, &c, 1) > 0) {
  }
}

// Messages committed so far by every writer slot of the ring (fairness runs).
std::uint64_t committed_total(const ring::RingView& v) {
  std::uint64_t n = 0;
  for (std::uint32_t i = 0; i < v.geo.max_writers; ++i) n += v.writers[i].messages_written.load(std::memory_order_relaxed);
  return n;
}

int run_writer(int argc, char** argv) {
  const std::string name = argv[2];
  const auto id = static_cast<std::uint32_t>(std::atol(argv[3]));
  const auto count = static_cast<std::uint64_t>(std::atoll(argv[4]));
  const auto min_size = static_cast<std::size_t>(std::atol(argv[5]));
  const auto max_size = static_cast<std::size_t>(std::atol(argv[6]));
  const bool use_claim = has_flag(argc, argv, "--claim");
  const long timeout_ms = arg_long(argc, argv, "--timeout-ms", -1);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Open, 0, WriteBehavior::Overwrite, ring_options(argc, argv));
  const long ready_fd = arg_long(argc, argv, "--ready-fd", -1);
  g_pause_at = arg_str(argc, argv, "--pause-at");
  g_pause_fd = static_cast<int>(ready_fd);
  const bool midcopy = g_pause_at != nullptr && std::strcmp(g_pause_at, "midcopy") == 0;
  if (g_pause_at != nullptr && !midcopy) w.core().set_pause_hook(pause_hook);
  if (ready_fd >= 0 && g_pause_at == nullptr) test::signal_ready(static_cast<int>(ready_fd), "ready");
  wait_for_go(static_cast<int>(arg_long(argc, argv, "--go-fd", -1)));
  std::vector<std::byte> buf;
  std::uint64_t timeouts = 0;
  // --until-total N: write until the ring holds N records in all (fairness: a fixed number
  // of turns shared by every writer), instead of COUNT of our own.
  const long until_total = arg_long(argc, argv, "--until-total", -1);
  std::uint64_t written = 0;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    if (until_total >= 0 && committed_total(w.core().view()) >= static_cast<std::uint64_t>(until_total)) break;
    ++written;
    const std::size_t size = test::message_size(id, seq, min_size, max_size);
    if (use_claim || midcopy) {
      auto c = w.claim(size);
      if (!c) return 3;
      buf.resize(size);
      test::fill_message(buf, id, seq);
      if (midcopy) {  // half the payload in place, then die there
        ring::copy_into_record(c->data().data(), buf.data(), size / 2);
        test::signal_ready(g_pause_fd, "paused-midcopy");
        for (;;) ::pause();
      }
      ring::copy_into_record(c->data().data(), buf.data(), size);
      c->commit();
    } else {
      buf.resize(size);
      test::fill_message(buf, id, seq);
      for (;;) {
        const auto r = timeout_ms >= 0 ? w.write_bytes(buf, std::chrono::milliseconds(timeout_ms)) : w.write_bytes(buf);
        if (r == WriteResult::Ok) break;
        ++timeouts;
      }
    }
  }
  std::printf("RESULT writer=%u written=%llu timeouts=%llu given_up=%llu\n", id,
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(timeouts),
              static_cast<unsigned long long>(w.core().given_up()));
  return 0;
}

int run_reader(int argc, char** argv) {
  const std::string name = argv[2];
  const auto writers = static_cast<std::uint32_t>(std::atol(argv[3]));
  const auto per_writer = static_cast<std::uint64_t>(std::atoll(argv[4]));
  const bool block = has_flag(argc, argv, "--block");
  const long slow_us = arg_long(argc, argv, "--slow-us", 0);
  const long deadline_s = arg_long(argc, argv, "--deadline-s", 240);
  ReaderOptions ro;
  ro.recovery_timeout = std::chrono::milliseconds(arg_long(argc, argv, "--recovery-ms", 1000));
  LockFreeBufferReader r(name, ro);
  if (const long fd = arg_long(argc, argv, "--ready-fd", -1); fd >= 0) test::signal_ready(static_cast<int>(fd), "ready");
  test::MessageChecker checker(writers, per_writer, block);
  const std::uint64_t total = std::uint64_t{writers} * per_writer;
  std::vector<std::byte> out;
  std::uint64_t gaps = 0, last_lost = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(deadline_s);
  while (r.messages_read() + r.messages_lost() < total) {
    const auto res = r.read_bytes(out, std::chrono::milliseconds(200));
    if (res == ReadResult::Ok) {
      checker.check(out);
      if (r.messages_lost() != last_lost) {
        ++gaps;
        last_lost = r.messages_lost();
      }
      if (slow_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(slow_us));
    }
    if (std::chrono::steady_clock::now() > deadline) break;
  }
  std::printf("RESULT read=%llu lost=%llu torn=%llu order_errors=%llu gaps=%llu complete=%d %s\n",
              static_cast<unsigned long long>(r.messages_read()), static_cast<unsigned long long>(r.messages_lost()),
              static_cast<unsigned long long>(checker.torn()), static_cast<unsigned long long>(checker.order_errors()),
              static_cast<unsigned long long>(gaps), checker.complete() ? 1 : 0, checker.shares().c_str());
  const bool ok = checker.torn() == 0 && checker.order_errors() == 0 &&
                  r.messages_read() + r.messages_lost() == total && (!block || (checker.complete() && r.messages_lost() == 0));
  return ok ? 0 : 1;
}

int run_idle_reader(int argc, char** argv) {
  LockFreeBufferReader r(argv[2]);
  std::vector<std::byte> out;
  test::signal_ready(static_cast<int>(arg_long(argc, argv, "--ready-fd", -1)), "ready");
  const auto res = r.read_bytes(out, std::chrono::seconds(60));
  return res == ReadResult::Ok ? 0 : 1;
}

int run_stalled_reader(int argc, char** argv) {
  LockFreeBufferReader r(argv[2]);
  test::signal_ready(static_cast<int>(arg_long(argc, argv, "--ready-fd", -1)), "ready");
  for (;;) ::pause();
}

int run_recover(int argc, char** argv) {
  Segment seg = Segment::open(argv[2], SegmentKind::ring, platform::Access::read_write);
  const ring::RingView view = ring::attach(seg);
  wait_for_go(static_cast<int>(arg_long(argc, argv, "--go-fd", -1)));
  const auto rep = ring::recover(view);
  std::printf("RESULT records_repaired=%u readers_reaped=%u writers_reaped=%u\n", rep.records_repaired,
              rep.readers_reaped, rep.writers_reaped);
  return 0;
}

int run_reaper(int argc, char** argv) {
  Segment seg = Segment::open(argv[2], SegmentKind::ring, platform::Access::read_write);
  const ring::RingView view = ring::attach(seg);
  const int stop_fd = static_cast<int>(arg_long(argc, argv, "--stop-fd", -1));
  const int interval_ms = static_cast<int>(arg_long(argc, argv, "--interval-ms", 10));
  if (const long fd = arg_long(argc, argv, "--ready-fd", -1); fd >= 0) test::signal_ready(static_cast<int>(fd), "ready");
  unsigned long long passes = 0, readers = 0, writers = 0, repaired = 0;
  for (;;) {
    const auto rep = ring::recover(view);
    ++passes;
    readers += rep.readers_reaped;
    writers += rep.writers_reaped;
    repaired += rep.records_repaired;
    pollfd p{stop_fd, POLLIN, 0};
    if (stop_fd < 0 || ::poll(&p, 1, interval_ms) > 0) {
      char c;
      if (stop_fd < 0 || ::read(stop_fd, &c, 1) <= 0) break;  // EOF: the test says stop
    }
  }
  std::printf("RESULT passes=%llu readers_reaped=%llu writers_reaped=%llu records_repaired=%llu\n", passes, readers,
              writers, repaired);
  return 0;
}

// Reads until every "final" writer's messages have arrived; checks every message.
int run_chaos_reader(int argc, char** argv) {
  const std::string name = argv[2];
  const auto final_base = static_cast<std::uint32_t>(arg_long(argc, argv, "--final-base", 1000000));
  const auto final_writers = static_cast<std::uint32_t>(arg_long(argc, argv, "--final-writers", 4));
  const auto final_count = static_cast<std::uint64_t>(arg_long(argc, argv, "--final-count", 1000));
  const bool block = has_flag(argc, argv, "--block");
  ReaderOptions ro;
  ro.recovery_timeout = std::chrono::milliseconds(arg_long(argc, argv, "--recovery-ms", 1000));
  LockFreeBufferReader r(name, ro);
  if (const long fd = arg_long(argc, argv, "--ready-fd", -1); fd >= 0) test::signal_ready(static_cast<int>(fd), "ready");
  test::ChaosChecker checker(has_flag(argc, argv, "--from-zero"));
  std::vector<std::byte> out;
  auto done = [&] {
    for (std::uint32_t i = 0; i < final_writers; ++i) {
      if (checker.received_from(final_base + i) < final_count) return false;
    }
    return true;
  };
  // Overwrite mode may lose any message, the final writers' last ones included: there the
  // end is the driver's end marker (writer id kEndMarker), written after the final writers.
  bool end_marker = false;
  while (block ? !done() : !end_marker) {
    if (r.read_bytes(out, std::chrono::milliseconds(500)) != ReadResult::Ok) continue;
    if (!checker.check(out) && checker.torn() > 0) {
      std::printf("RESULT torn=%llu\n", static_cast<unsigned long long>(checker.torn()));
      return 10;  // a torn message is fatal: report at once
    }
    std::uint32_t writer = 0;
    std::memcpy(&writer, out.data(), sizeof writer);
    end_marker = end_marker || writer == test::kEndMarker;
  }
  std::printf("RESULT read=%llu lost=%llu torn=%llu gaps=%llu duplicates=%llu writers_seen=%zu\n",
              static_cast<unsigned long long>(r.messages_read()), static_cast<unsigned long long>(r.messages_lost()),
              static_cast<unsigned long long>(checker.torn()), static_cast<unsigned long long>(checker.gaps()),
              static_cast<unsigned long long>(checker.duplicates()), checker.writers_seen());
  const bool ok = checker.torn() == 0 && checker.duplicates() == 0 && (!block || (checker.gaps() == 0 && r.messages_lost() == 0));
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  try {
    const std::string role = argv[1];
    if (role == "writer" && argc >= 7) return run_writer(argc, argv);
    if (role == "reader" && argc >= 5) return run_reader(argc, argv);
    if (role == "idle-reader") return run_idle_reader(argc, argv);
    if (role == "stalled-reader") return run_stalled_reader(argc, argv);
    if (role == "recover") return run_recover(argc, argv);
    if (role == "reaper") return run_reaper(argc, argv);
    if (role == "chaos-reader") return run_chaos_reader(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ring_proc: %s\n", e.what());
    return 4;
  }
  return 2;
}
