// stella-logging-bench: the cost of a log call from W writer processes through spdlog into
//   ring      a Stella ring (stella/spdlog_sink.hpp, Overwrite), drained by a reader process
//             that decodes each record and writes it as a log line to a file (the aggregator);
//   file      one shared log file (spdlog basic_file_sink, append mode, stdio-buffered);
//   syslog    the syslog protocol over a Unix datagram socket (what syslog(3) does with
//             /dev/log), received by a process that writes each line to a file. The socket
//             is the bench's own (this host has no syslog daemon); `syslog(3)` itself is
//             measured too when /dev/log exists.
// All in the same run, rounds interleaved; ratios are to the same round's file run.
// Reports records/s (all writers' records over the wall time from the common start to the
// last writer done), per-call p50/p99/p99.9 over every call of every writer, and what
// reached the reader.
//
//   stella-logging-bench [--writers 4] [--records 100000] [--rounds 3] [--ring-size 16777216]
#include <signal.h>
#include <spdlog/fmt/chrono.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "stella/log_record.hpp"
#include "stella/spdlog_sink.hpp"
#include "stella/stella.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

struct Config {
  int writers = 4;
  std::size_t records = 100000;
  int rounds = 3;
  std::size_t ring_size = std::size_t{16} << 20;
};

// Shared with the forked processes (MAP_SHARED before fork).
struct Shared {
  std::atomic<std::uint64_t> go_ns;  // 0 until every writer is ready
  std::atomic<int> ready;
  std::uint64_t start_ns[64], end_ns[64];
  std::atomic<std::uint64_t> received;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// The syslog wire format over a Unix datagram socket, as syslog(3) sends it to /dev/log.
class dgram_syslog_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit dgram_syslog_sink(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_DGRAM, 0)) {
    addr_.sun_family = AF_UNIX;
    std::snprintf(addr_.sun_path, sizeof addr_.sun_path, "%s", path.c_str());
  }
  ~dgram_syslog_sink() override { ::close(fd_); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // <PRI>TIMESTAMP TAG[PID]: MSG, like glibc's syslog(3).
    buf_.clear();
    const int pri = 8 /* user */ + (6 - std::min<int>(msg.level, 5));
    fmt::format_to(std::back_inserter(buf_), "<{}>{:%b %d %H:%M:%S} {}[{}]: {}", pri, fmt::localtime(std::chrono::system_clock::to_time_t(msg.time)),
                   msg.logger_name, ::getpid(), msg.payload);
    while (::sendto(fd_, buf_.data(), buf_.size(), 0, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) < 0 &&
           errno == EINTR) {
    }
  }
  void flush_() override {}

 private:
  int fd_;
  sockaddr_un addr_{};
  fmt::memory_buffer buf_;
};

enum class Target { ring, file, syslog_dgram, syslog_real };
const char* name_of(Target t) {
  switch (t) {
    case Target::ring: return "ring";
    case Target::file: return "file";
    case Target::syslog_dgram: return "syslog-dgram";
    case Target::syslog_real: return "syslog(3)";
  }
  return "?";
}

struct Result {
  double records_per_s = 0;
  double p50 = 0, p99 = 0, p999 = 0;
  std::uint64_t delivered = 0, expected = 0, dropped = 0;
};

[[noreturn]] void writer_main(Target t, int id, const Config& c, Shared* sh, std::uint32_t* lat, const std::string& ring,
                              const std::string& file, const std::string& sock) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  std::shared_ptr<stella::ring_sink_st> ring_sink;
  switch (t) {
    case Target::ring: sink = ring_sink = std::make_shared<stella::ring_sink_st>(ring); break;
    case Target::file: sink = std::make_shared<spdlog::sinks::basic_file_sink_st>(file); break;
    case Target::syslog_dgram: sink = std::make_shared<dgram_syslog_sink>(sock); break;
    case Target::syslog_real: sink = std::make_shared<spdlog::sinks::syslog_sink_st>("stella-bench", LOG_PID, LOG_USER, false); break;
  }
  spdlog::logger log("service-" + std::to_string(id), sink);
  sh->ready.fetch_add(1);
  while (sh->go_ns.load(std::memory_order_acquire) == 0) {
    // Spin-wait for the common start: the writers are about to measure, a sleep would skew it.
  }
  stella::LogFields fields{{"service", "bench"}};
  sh->start_ns[id] = now_ns();
  for (std::size_t i = 0; i < c.records; ++i) {
    const std::uint64_t a = now_ns();
    log.info("request {} served in {} us from {}", i, 125, "10.0.0.7");
    lat[i] = static_cast<std::uint32_t>(std::min<std::uint64_t>(now_ns() - a, 0xFFFFFFFFu));
  }
  log.flush();
  sh->end_ns[id] = now_ns();
  std::_Exit(ring_sink && ring_sink->dropped() > 0 ? 3 : 0);
}

// The reader side: drains until it has `expected` records or the writers are done and
// nothing more comes; writes each as a log line to `out`.
[[noreturn]] void ring_reader_main(const std::string& ring, const std::string& out, std::uint64_t expected, Shared* sh) {
  stella::LockFreeBufferReader reader(ring);
  sh->ready.fetch_add(1);
  std::FILE* f = std::fopen(out.c_str(), "w");
  std::vector<std::byte> bytes;
  std::uint64_t got = 0;
  while (got + reader.messages_lost() < expected) {
    if (reader.read_bytes(bytes, std::chrono::seconds(2)) != stella::ReadResult::Ok) break;
    if (auto r = stella::decode_log_record(bytes)) {
      const std::string line = stella::format_log_line(*r);
      std::fwrite(line.data(), 1, line.size(), f);
      std::fputc('\n', f);
    }
    ++got;
  }
  std::fclose(f);
  sh->received.store(got);
  std::_Exit(0);
}

[[noreturn]] void dgram_reader_main(int fd, const std::string& out, std::uint64_t expected, Shared* sh) {
  sh->ready.fetch_add(1);
  std::FILE* f = std::fopen(out.c_str(), "w");
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[2048];
  std::uint64_t got = 0;
  while (got < expected) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    std::fwrite(buf, 1, static_cast<std::size_t>(n), f);
    std::fputc('\n', f);
    ++got;
  }
  std::fclose(f);
  sh->received.store(got);
  std::_Exit(0);
}

Result run_once(Target t, const Config& c, const std::filesystem::path& dir, int round) {
  const std::uint64_t expected = static_cast<std::uint64_t>(c.writers) * c.records;
  auto* sh = static_cast<Shared*>(::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  auto* lat = static_cast<std::uint32_t*>(::mmap(nullptr, expected * sizeof(std::uint32_t), PROT_READ | PROT_WRITE,
                                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (sh) Shared{};
  const std::string tag = std::string(name_of(t)) + "-" + std::to_string(round);
  const std::string ring = "logbench-" + std::to_string(::getpid()) + "-" + std::to_string(round);
  const std::string file = (dir / (tag + ".log")).string();
  const std::string sock = (dir / (tag + ".sock")).string();
  std::vector<pid_t> pids;
  int readers = 0;
  std::optional<stella::MultiWriterCircularBuffer> ring_owner;
  int dgram_fd = -1;
  if (t == Target::ring) {
    ring_owner.emplace(ring, stella::SharedMemoryMode::Create, c.ring_size);
    if (const pid_t p = ::fork(); p == 0) ring_reader_main(ring, file, expected, sh); else pids.push_back(p);
    readers = 1;
  } else if (t == Target::syslog_dgram) {
    dgram_fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", sock.c_str());
    if (::bind(dgram_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("bind");
      std::exit(1);
    }
    if (const pid_t p = ::fork(); p == 0) dgram_reader_main(dgram_fd, file + ".recv", expected, sh); else pids.push_back(p);
    readers = 1;
  }
  std::vector<pid_t> writer_pids;
  for (int w = 0; w < c.writers; ++w) {
    if (const pid_t p = ::fork(); p == 0) writer_main(t, w, c, sh, lat + static_cast<std::size_t>(w) * c.records, ring, file, sock);
    else writer_pids.push_back(p);
  }
  while (sh->ready.load() < c.writers + readers) ::usleep(1000);  // setup, before the clock starts
  sh->go_ns.store(now_ns(), std::memory_order_release);
  Result r;
  r.expected = expected;
  for (pid_t p : writer_pids) {
    int status = 0;
    ::waitpid(p, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) ++r.dropped;  // a ring sink dropped (never: Overwrite)
  }
  for (pid_t p : pids) ::waitpid(p, nullptr, 0);
  std::uint64_t first = ~0ull, last = 0;
  for (int w = 0; w < c.writers; ++w) {
    first = std::min(first, sh->start_ns[w]);
    last = std::max(last, sh->end_ns[w]);
  }
  r.records_per_s = static_cast<double>(expected) / (static_cast<double>(last - first) / 1e9);
  std::vector<std::uint32_t> all(lat, lat + expected);
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) { return static_cast<double>(all[std::min(all.size() - 1, static_cast<std::size_t>(q * static_cast<double>(all.size())))]); };
  r.p50 = pct(0.50);
  r.p99 = pct(0.99);
  r.p999 = pct(0.999);
  if (t == Target::file) {
    std::FILE* f = std::fopen(file.c_str(), "r");
    std::uint64_t lines = 0;
    for (int ch; f && (ch = std::fgetc(f)) != EOF;) lines += ch == '\n';
    if (f) std::fclose(f);
    r.delivered = lines;
  } else if (t == Target::syslog_real) {
    r.delivered = 0;  // goes to the host's syslog daemon; not counted here
  } else {
    r.delivered = sh->received.load();
  }
  if (dgram_fd >= 0) ::close(dgram_fd);
  ring_owner.reset();
  stella::MultiWriterCircularBuffer::remove(ring);
  std::error_code ec;
  std::filesystem::remove(file, ec);
  std::filesystem::remove(file + ".recv", ec);
  std::filesystem::remove(sock, ec);
  ::munmap(lat, expected * sizeof(std::uint32_t));
  ::munmap(sh, sizeof(Shared));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long v = std::stol(argv[i + 1]);
    if (k == "--writers") c.writers = static_cast<int>(std::clamp(v, 1L, 64L));
    else if (k == "--records") c.records = static_cast<std::size_t>(v);
    else if (k == "--rounds") c.rounds = static_cast<int>(v);
    else if (k == "--ring-size") c.ring_size = static_cast<std::size_t>(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("stella-logbench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<Target> targets{Target::ring, Target::file, Target::syslog_dgram};
  const bool have_syslog = std::filesystem::exists("/dev/log");
  if (have_syslog) targets.push_back(Target::syslog_real);
  std::printf("stella-logging-bench: %d writer processes x %zu records, %d rounds, ring %zu bytes%s\n", c.writers,
              c.records, c.rounds, c.ring_size, have_syslog ? "" : " (no /dev/log: syslog(3) not measured)");
  std::map<Target, std::vector<Result>> results;
  for (int round = 0; round < c.rounds; ++round) {
    for (Target t : targets) results[t].push_back(run_once(t, c, dir, round));
  }
  std::filesystem::remove_all(dir);
  std::printf("%-14s %14s %10s %10s %10s %10s %10s %14s\n", "target", "records/s", "x file", "p50 ns", "p99 ns",
              "p99.9 ns", "p99 x file", "delivered");
  for (Target t : targets) {
    // Median round by records/s; ratios within each round, then their median.
    std::vector<double> rate_ratio, p99_ratio;
    for (int round = 0; round < c.rounds; ++round) {
      rate_ratio.push_back(results[t][round].records_per_s / results[Target::file][round].records_per_s);
      p99_ratio.push_back(results[t][round].p99 / results[Target::file][round].p99);
    }
    std::sort(rate_ratio.begin(), rate_ratio.end());
    std::sort(p99_ratio.begin(), p99_ratio.end());
    std::vector<Result> rs = results[t];
    std::sort(rs.begin(), rs.end(), [](const Result& a, const Result& b) { return a.records_per_s < b.records_per_s; });
    const Result& m = rs[rs.size() / 2];
    char delivered[64];
    std::snprintf(delivered, sizeof delivered, "%llu/%llu", static_cast<unsigned long long>(m.delivered),
                  static_cast<unsigned long long>(m.expected));
    std::printf("%-14s %14.0f %10.2f %10.0f %10.0f %10.0f %10.2f %14s\n", name_of(t), m.records_per_s,
                rate_ratio[rate_ratio.size() / 2], m.p50, m.p99, m.p999, p99_ratio[p99_ratio.size() / 2],
                t == Target::syslog_real ? "-" : delivered);
  }
  return 0;
}
