// Helper process for the daemon tests (a real process, so kill -9 is real). Roles:
//   writer NAME ID COUNT [--ready-fd FD] [--phase-fd FD --phase-every N --go-fds A,B,...]
//   reader NAME ID COUNT [--ready-fd FD]
//   hang-writer NAME ID (reserved|claim) --ready-fd FD   reserves (or claims) a record, says
//                                                    "paused" and waits to be killed
//   idle-reader NAME --ready-fd FD                   takes a reader slot, reads nothing, waits
// Every writer and reader uses a recovery timeout of 10 minutes, so a repair the test sees
// can only be the daemon's. Messages are 64 bytes: writer id, sequence number, a checksum.
// The reader takes only writer ID's messages, checks they come in order with none missing,
// and prints "RESULT read=N order_errors=N torn=N lost=N".
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;

namespace {

constexpr auto kNoSelfRecovery = std::chrono::minutes(10);
constexpr std::size_t kMessageSize = 64;

long arg_long(int argc, char** argv, const char* flag, long fallback) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return std::atol(argv[i + 1]);
  }
  return fallback;
}
std::string arg_str(int argc, char** argv, const char* flag) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  }
  return {};
}

std::uint64_t checksum(std::uint32_t id, std::uint64_t seq) { return (seq * 0x9E3779B97F4A7C15ULL) ^ (id * 0xC2B2AE3D27D4EB4FULL); }

void fill(std::span<std::byte> out, std::uint32_t id, std::uint64_t seq) {
  std::memset(out.data(), 0, out.size());
  const std::uint64_t sum = checksum(id, seq);
  std::memcpy(out.data(), &id, 4);
  std::memcpy(out.data() + 8, &seq, 8);
  for (std::size_t off = 16; off + 8 <= out.size(); off += 8) std::memcpy(out.data() + off, &sum, 8);
}

void wait_for_go(int fd) {
  char c;
  while (::read(fd, &c, 1) > 0) {
  }
}

RingOptions writer_options() {
  RingOptions o;
  o.recovery_timeout = kNoSelfRecovery;
  return o;
}

int run_writer(int argc, char** argv) {
  const std::string name = argv[2];
  const auto id = static_cast<std::uint32_t>(std::atol(argv[3]));
  const auto count = static_cast<std::uint64_t>(std::atoll(argv[4]));
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Open, 0, WriteBehavior::Overwrite, writer_options());
  if (const long fd = arg_long(argc, argv, "--ready-fd", -1); fd >= 0) test::signal_ready(static_cast<int>(fd), "ready");
  // Phases: after every `phase_every` messages, say "phase K" and wait for go pipe K.
  const long phase_fd = arg_long(argc, argv, "--phase-fd", -1);
  const auto phase_every = static_cast<std::uint64_t>(arg_long(argc, argv, "--phase-every", 0));
  std::vector<int> go_fds;
  for (std::string list = arg_str(argc, argv, "--go-fds"); !list.empty();) {
    const auto comma = list.find(',');
    go_fds.push_back(std::atoi(list.substr(0, comma).c_str()));
    list = comma == std::string::npos ? std::string() : list.substr(comma + 1);
  }
  std::vector<std::byte> buf(kMessageSize);
  std::size_t phase = 0;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    if (phase_every > 0 && seq > 0 && seq % phase_every == 0 && phase < go_fds.size()) {
      test::signal_ready(static_cast<int>(phase_fd), "phase " + std::to_string(phase));
      wait_for_go(go_fds[phase++]);
    }
    fill(buf, id, seq);
    if (w.write_bytes(buf) != WriteResult::Ok) return 3;
  }
  std::printf("RESULT written=%llu\n", static_cast<unsigned long long>(count));
  return 0;
}

int run_reader(int argc, char** argv) {
  const std::string name = argv[2];
  const auto id = static_cast<std::uint32_t>(std::atol(argv[3]));
  const auto count = static_cast<std::uint64_t>(std::atoll(argv[4]));
  ReaderOptions ro;
  ro.recovery_timeout = kNoSelfRecovery;
  LockFreeBufferReader r(name, ro);
  if (const long fd = arg_long(argc, argv, "--ready-fd", -1); fd >= 0) test::signal_ready(static_cast<int>(fd), "ready");
  std::vector<std::byte> out;
  std::uint64_t next = 0, order_errors = 0, torn = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  while (next < count && std::chrono::steady_clock::now() < deadline) {
    if (r.read_bytes(out, std::chrono::milliseconds(200)) != ReadResult::Ok) continue;
    if (out.size() != kMessageSize) {
      ++torn;
      continue;
    }
    std::uint32_t from = 0;
    std::uint64_t seq = 0;
    std::memcpy(&from, out.data(), 4);
    std::memcpy(&seq, out.data() + 8, 8);
    std::vector<std::byte> expect(kMessageSize);
    fill(expect, from, seq);
    if (expect != out) ++torn;
    if (from != id) continue;
    if (seq != next) ++order_errors;
    next = seq + 1;
  }
  std::printf("RESULT read=%llu order_errors=%llu torn=%llu lost=%llu\n", static_cast<unsigned long long>(next),
              static_cast<unsigned long long>(order_errors), static_cast<unsigned long long>(torn),
              static_cast<unsigned long long>(r.messages_lost()));
  return next == count && order_errors == 0 && torn == 0 && r.messages_lost() == 0 ? 0 : 1;
}

int g_ready_fd = -1;
const char* g_pause_at = "";

void pause_hook(const char* where) {
  if (std::strcmp(where, g_pause_at) != 0) return;
  test::signal_ready(g_ready_fd, "paused");
  for (;;) ::pause();  // until kill -9
}

int run_hang_writer(int argc, char** argv) {
  const std::string name = argv[2];
  const auto id = static_cast<std::uint32_t>(std::atol(argv[3]));
  g_pause_at = argv[4];
  g_ready_fd = static_cast<int>(arg_long(argc, argv, "--ready-fd", -1));
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Open, 0, WriteBehavior::Overwrite, writer_options());
  w.core().set_pause_hook(&pause_hook);
  std::vector<std::byte> buf(kMessageSize);
  fill(buf, id, 0);
  (void)w.write_bytes(buf);
  return 5;  // the hook never returns
}

int run_idle_reader(int argc, char** argv) {
  ReaderOptions ro;
  ro.recovery_timeout = kNoSelfRecovery;
  LockFreeBufferReader r(argv[2], ro);
  test::signal_ready(static_cast<int>(arg_long(argc, argv, "--ready-fd", -1)), "ready");
  for (;;) ::pause();  // until kill -9
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  try {
    const std::string role = argv[1];
    if (role == "writer" && argc >= 5) return run_writer(argc, argv);
    if (role == "reader" && argc >= 5) return run_reader(argc, argv);
    if (role == "hang-writer" && argc >= 5) return run_hang_writer(argc, argv);
    if (role == "idle-reader") return run_idle_reader(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "daemon_proc: %s\n", e.what());
    return 4;
  }
  return 2;
}
