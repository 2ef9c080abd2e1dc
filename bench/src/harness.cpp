#include "harness.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "stella/common/platform/wait.hpp"

#include "spin.hpp"

namespace stella::bench {
namespace {

constexpr int kMaxProcesses = 16;
constexpr int kMaxWriters = 8;
constexpr std::uint64_t kSequenceMask = (std::uint64_t{1} << 56) - 1;
constexpr std::uint64_t kEndOfRun = kSequenceMask;  // the sequence of a writer's last message
constexpr std::size_t kHeaderBytes = 8;              // tagged sequence: writer index << 56 | sequence
constexpr std::size_t kLatencyHeaderBytes = 16;      // + CLOCK_MONOTONIC send time

std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t cpu_ns() noexcept {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(tv.tv_usec) * 1000u;
  };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

// What each child reports back, in the shared control block.
struct ProcessSlot {
  std::uint64_t messages;  // sent (writer) or received (reader), end markers excluded
  std::uint64_t start_ns;
  std::uint64_t end_ns;
  std::uint64_t cpu_ns;
  std::uint64_t wakes;
  std::uint64_t errors;
  std::uint64_t reported_lost;
  std::uint64_t per_writer[kMaxWriters];
  std::int32_t finished;
  char error[244];
};

struct Control {
  alignas(64) std::atomic<std::uint32_t> ready;
  alignas(64) std::atomic<std::uint32_t> go;            // parent → children: start (futex word)
  alignas(64) std::atomic<std::uint32_t> stop;          // parent → writers: time is up
  alignas(64) std::atomic<std::uint32_t> writers_done;  // writers → readers: end markers sent
  alignas(64) std::atomic<std::uint32_t> abort;         // anyone → everyone: give up
  alignas(64) std::atomic<std::uint64_t> ack;           // latency: reader → writer, last sequence + 1
  alignas(64) ProcessSlot slots[kMaxProcesses];
  // followed by latency samples: std::int64_t one_way[n], round_trip[n]
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

class SharedControl {
 public:
  explicit SharedControl(std::size_t samples) : bytes_(sizeof(Control) + 2 * samples * sizeof(std::int64_t)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap of the control block failed");
    control_ = new (p) Control{};
    samples_ = reinterpret_cast<std::int64_t*>(static_cast<std::byte*>(p) + sizeof(Control));
  }
  ~SharedControl() { ::munmap(control_, bytes_); }
  SharedControl(const SharedControl&) = delete;
  SharedControl& operator=(const SharedControl&) = delete;
  Control* operator->() const { return control_; }
  [[nodiscard]] std::int64_t* samples() const { return samples_; }

 private:
  std::size_t bytes_;
  Control* control_;
  std::int64_t* samples_;
};

// A writer of a point-to-point transport in a fan-out run: one channel per reader.
class FanOutWriter final : public WriterEndpoint {
 public:
  explicit FanOutWriter(std::vector<std::unique_ptr<WriterEndpoint>> writers) : writers_(std::move(writers)) {}
  void send(ConstBytes message) override {
    for (auto& w : writers_) w->send(message);
  }

 private:
  std::vector<std::unique_ptr<WriterEndpoint>> writers_;
};

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof set, &set);  // best effort
}

void wait_for_go(Control& control) {
  while (control.go.load(std::memory_order_acquire) == 0) {  // pairs with the parent's release
    platform::wait_on_address(control.go, 0, std::chrono::milliseconds(100));
  }
}

struct ChildContext {
  const RunSpec& spec;
  Control& control;
  std::int64_t* samples;
  ProcessSlot& slot;
};

void put_header(std::byte* message, int writer, std::uint64_t sequence) {
  const std::uint64_t tagged = (static_cast<std::uint64_t>(writer) << 56) | sequence;
  std::memcpy(message, &tagged, sizeof tagged);
}

void writer_throughput(ChildContext& ctx, WriterEndpoint& writer, int index) {
  const std::size_t size = ctx.spec.message_size;
  std::vector<std::byte> message(size, std::byte{0x5a});
  std::uint64_t sequence = 0;
  const bool blob = ctx.spec.mode == RunMode::blob;
  ctx.slot.start_ns = now_ns();
  while (ctx.control.stop.load(std::memory_order_relaxed) == 0) {  // a flag, no data depends on it
    if (ctx.spec.zero_copy) {
      // The claim API as a serializer would use it: the payload is produced in place, no source buffer.
      MutableBytes space = writer.claim(size);
      put_header(space.data(), index, sequence);
      std::memset(space.data() + kHeaderBytes, 0x5a, size - kHeaderBytes);
      writer.commit();
    } else {
      put_header(message.data(), index, sequence);
      // A shared value also carries its header at the end, so a reader can prove it whole.
      if (blob) std::memcpy(message.data() + size - kHeaderBytes, message.data(), kHeaderBytes);
      writer.send(message);
    }
    ++sequence;
  }
  if (blob) {  // a shared value has no end marker: readers watch writers_done
    ctx.slot.end_ns = now_ns();
    ctx.slot.messages = sequence;
    return;
  }
  put_header(message.data(), index, kEndOfRun);
  if (ctx.spec.zero_copy) {
    MutableBytes space = writer.claim(size);
    std::memcpy(space.data(), message.data(), size);
    writer.commit();
  } else {
    writer.send(message);
  }
  ctx.slot.end_ns = now_ns();
  ctx.slot.messages = sequence;
}

void writer_latency(ChildContext& ctx, WriterEndpoint& writer) {
  const std::size_t size = std::max(ctx.spec.message_size, kLatencyHeaderBytes);
  std::vector<std::byte> message(size, std::byte{0x5a});
  const std::size_t n = ctx.spec.latency_samples;
  std::int64_t* round_trip = ctx.samples + n;
  ctx.slot.start_ns = now_ns();
  for (std::uint64_t i = 0; i < n && ctx.control.abort.load(std::memory_order_relaxed) == 0; ++i) {
    if (ctx.spec.latency_gap.count() > 0) {
      // Long enough for a sleeping reader to have gone to sleep.
      const auto gap = std::chrono::duration_cast<std::chrono::nanoseconds>(ctx.spec.latency_gap).count();
      timespec ts{static_cast<time_t>(gap / 1'000'000'000), static_cast<long>(gap % 1'000'000'000)};
      ::nanosleep(&ts, nullptr);
    }
    put_header(message.data(), 0, i);
    const std::uint64_t t0 = now_ns();
    std::memcpy(message.data() + kHeaderBytes, &t0, sizeof t0);
    writer.send(message);
    while (ctx.control.ack.load(std::memory_order_acquire) != i + 1) {  // pairs with the reader's release
      spin_pause();
      if (ctx.control.abort.load(std::memory_order_relaxed) != 0) break;
    }
    round_trip[i] = static_cast<std::int64_t>(now_ns() - t0);
  }
  put_header(message.data(), 0, kEndOfRun);
  writer.send(message);
  ctx.slot.end_ns = now_ns();
  ctx.slot.messages = n;
}

void reader_loop(ChildContext& ctx, ReaderEndpoint& reader) {
  const bool latency = ctx.spec.mode == RunMode::latency;
  const std::size_t size = latency ? std::max(ctx.spec.message_size, kLatencyHeaderBytes) : ctx.spec.message_size;
  const auto writers = static_cast<std::uint32_t>(ctx.spec.writers);
  std::uint64_t next[kMaxWriters] = {};
  std::uint32_t ended = 0;
  std::uint64_t received = 0;
  ctx.slot.start_ns = now_ns();
  while (ended < writers) {
    std::optional<ConstBytes> message;
    message = ctx.spec.zero_copy ? reader.peek() : reader.receive();
    if (!message) {
      // Only lossy transports return empty-handed; an overwritten end marker ends the run here.
      if (ctx.control.writers_done.load(std::memory_order_acquire) == writers) break;  // pairs with writers' release
      if (ctx.control.abort.load(std::memory_order_relaxed) != 0) break;
      continue;
    }
    std::uint64_t tagged = 0;
    std::memcpy(&tagged, message->data(), sizeof tagged);
    const std::size_t message_size = message->size();
    std::uint64_t sent_at = 0;
    if (latency && message_size >= kLatencyHeaderBytes) std::memcpy(&sent_at, message->data() + kHeaderBytes, sizeof sent_at);
    // Zero copy: what was read in place counts only if it was not overwritten meanwhile.
    if (ctx.spec.zero_copy && !reader.release()) continue;
    const auto writer = static_cast<std::uint32_t>(tagged >> 56);
    const std::uint64_t sequence = tagged & kSequenceMask;
    if (message_size != size || writer >= writers) {
      ++ctx.slot.errors;
    } else if (sequence == kEndOfRun) {
      ++ended;
    } else {
      if (sequence < next[writer]) ++ctx.slot.errors;  // duplicate or reordered
      next[writer] = sequence + 1;
      ++ctx.slot.per_writer[writer];
      ++received;
      if (latency) {
        const std::uint64_t arrived_at = now_ns();
        if (sequence < ctx.spec.latency_samples) ctx.samples[sequence] = static_cast<std::int64_t>(arrived_at - sent_at);
        ctx.control.ack.store(sequence + 1, std::memory_order_release);  // pairs with the writer's acquire
      }
    }
  }
  ctx.slot.end_ns = now_ns();
  ctx.slot.messages = received;
  ctx.slot.reported_lost = reader.reported_lost();
}

// Reads a shared value as fast as possible until the writers are done; checks that every
// value read is whole (its header equals its trailer) and counts the new ones.
void blob_reader_loop(ChildContext& ctx, ReaderEndpoint& reader) {
  const auto writers = static_cast<std::uint32_t>(ctx.spec.writers);
  std::uint64_t reads = 0;
  std::uint64_t distinct = 0;
  std::uint64_t last = ~std::uint64_t{0};
  ctx.slot.start_ns = now_ns();
  while (ctx.control.writers_done.load(std::memory_order_acquire) < writers &&  // pairs with writers' release
         ctx.control.abort.load(std::memory_order_relaxed) == 0) {
    auto value = reader.receive();
    if (!value) continue;  // nothing written yet
    ++reads;
    std::uint64_t head = 0;
    std::uint64_t tail = 1;
    if (value->size() == ctx.spec.message_size) {
      std::memcpy(&head, value->data(), sizeof head);
      std::memcpy(&tail, value->data() + value->size() - kHeaderBytes, sizeof tail);
    }
    if (head != tail) {
      ++ctx.slot.errors;  // torn or wrong-sized
    } else if (head != last) {
      ++distinct;
      last = head;
    }
  }
  ctx.slot.end_ns = now_ns();
  ctx.slot.messages = reads;
  ctx.slot.per_writer[0] = distinct;
}

enum class Role { writer, reader };

[[noreturn]] void child_main(Role role, int index, const RunSpec& spec, Control& control, std::int64_t* samples,
                             ProcessSlot& slot, const std::function<std::unique_ptr<WriterEndpoint>()>& open_writer,
                             const std::function<std::unique_ptr<ReaderEndpoint>()>& open_reader, bool pin) {
  int code = 0;
  bool counted_ready = false;
  try {
    if (pin) pin_to_cpu(role == Role::writer ? 0 : 1);
    ChildContext ctx{spec, control, samples, slot};
    std::unique_ptr<WriterEndpoint> writer;
    std::unique_ptr<ReaderEndpoint> reader;
    if (role == Role::writer) {
      writer = open_writer();
    } else {
      reader = open_reader();
    }
    control.ready.fetch_add(1, std::memory_order_acq_rel);
    counted_ready = true;
    wait_for_go(control);
    const std::uint64_t cpu0 = cpu_ns();
    const std::uint64_t wakes0 = platform::wake_calls();
    if (role == Role::writer) {
      if (spec.mode == RunMode::latency) {
        writer_latency(ctx, *writer);
      } else {
        writer_throughput(ctx, *writer, index);
      }
      control.writers_done.fetch_add(1, std::memory_order_release);  // after the end marker was sent
    } else if (spec.mode == RunMode::blob) {
      blob_reader_loop(ctx, *reader);
    } else {
      reader_loop(ctx, *reader);
    }
    slot.cpu_ns = cpu_ns() - cpu0;
    slot.wakes = platform::wake_calls() - wakes0;
    slot.finished = 1;
  } catch (const std::exception& e) {
    std::snprintf(slot.error, sizeof slot.error, "%s %d: %s", role == Role::writer ? "writer" : "reader", index,
                  e.what());
    control.abort.store(1, std::memory_order_relaxed);
    if (!counted_ready) control.ready.fetch_add(1, std::memory_order_acq_rel);
    if (role == Role::writer) control.writers_done.fetch_add(1, std::memory_order_release);
    code = 1;
  }
  ::_exit(code);
}

std::string next_unique_name() {
  static int counter = 0;
  return "sb" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

double percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)]);
}

LatencyStats latency_stats(const std::int64_t* one_way, const std::int64_t* round_trip, std::size_t n) {
  const std::size_t warmup = std::min<std::size_t>(n / 10, 1000);  // first-touch, caches, frequency ramp
  std::vector<std::int64_t> v(one_way + warmup, one_way + n);
  std::vector<std::int64_t> rtt(round_trip + warmup, round_trip + n);
  std::sort(v.begin(), v.end());
  std::sort(rtt.begin(), rtt.end());
  LatencyStats s;
  s.samples = v.size();
  if (v.empty()) return s;
  s.min_ns = static_cast<double>(v.front());
  s.p50_ns = percentile(v, 0.50);
  s.p90_ns = percentile(v, 0.90);
  s.p99_ns = percentile(v, 0.99);
  s.p999_ns = percentile(v, 0.999);
  s.max_ns = static_cast<double>(v.back());
  double sum = 0;
  for (auto x : v) sum += static_cast<double>(x);
  s.mean_ns = sum / static_cast<double>(v.size());
  s.rtt_half_p50_ns = percentile(rtt, 0.50) / 2;
  for (int i = 1; i <= 100; ++i) {
    const double q = i / 100.0;
    s.cdf.emplace_back(percentile(v, q), q);
  }
  for (double q : {0.995, 0.999, 0.9999}) s.cdf.emplace_back(percentile(v, q), q);
  std::sort(s.cdf.begin(), s.cdf.end(), [](auto& a, auto& b) { return a.second < b.second; });
  return s;
}

}  // namespace

RunResult run_transport(const TransportInfo& transport, const RunSpec& spec) {
  RunResult result;
  result.spec = spec;
  result.transport = transport.name;
  result.kind = transport.kind;

  const bool latency = spec.mode == RunMode::latency;
  if (spec.writers < 1 || spec.readers < 1 || spec.writers + spec.readers > kMaxProcesses ||
      spec.writers > kMaxWriters || (latency && (spec.writers != 1 || spec.readers != 1))) {
    result.failed = "unsupported process counts";
    return result;
  }
  const bool blob = spec.mode == RunMode::blob;
  if (blob != transport.blob) {
    result.skipped = blob ? "not a shared value" : "a shared value, not a queue";
    return result;
  }
  if (spec.message_size < kHeaderBytes || (latency && spec.message_size < kLatencyHeaderBytes) ||
      (blob && spec.message_size < 2 * kHeaderBytes)) {
    result.skipped = "messages must hold the harness's header";
    return result;
  }
  if (spec.zero_copy && !transport.zero_copy) {
    result.skipped = "no zero-copy API";
    return result;
  }
  if (spec.writers > 1 && !transport.multi_writer) {
    result.skipped = "one writer per channel";
    return result;
  }
  const bool fan_out = spec.readers > 1 && !transport.multi_reader;
  if (fan_out && spec.zero_copy) {
    result.skipped = "fan-out over separate channels has no zero-copy path";
    return result;
  }

  const std::string base_name = next_unique_name();
  ChannelConfig config;
  config.message_size = latency ? std::max(spec.message_size, kLatencyHeaderBytes) : spec.message_size;
  config.ring_capacity = spec.ring_capacity;
  config.writers = spec.writers;
  config.readers = fan_out ? 1 : spec.readers;
  config.unique_name = base_name;
  if (auto why = transport.unsupported(config)) {
    result.skipped = *why;
    return result;
  }

  std::vector<std::unique_ptr<Channel>> channels;
  try {
    const int count = fan_out ? spec.readers : 1;
    for (int i = 0; i < count; ++i) {
      ChannelConfig c = config;
      if (fan_out) c.unique_name = base_name + "c" + std::to_string(i);
      channels.push_back(transport.create(c));
    }
  } catch (const std::exception& e) {
    result.failed = std::string("setup: ") + e.what();
    return result;
  }
  if (fan_out) result.note = std::to_string(spec.readers) + " channels; the writer sends each message to every one";

  SharedControl control(latency ? spec.latency_samples : 0);
  const bool pin = spec.pin && spec.writers == 1 && spec.readers == 1 && std::thread::hardware_concurrency() >= 2;

  std::vector<pid_t> children;
  std::fflush(nullptr);  // children exit with _exit: nothing buffered may be written twice
  auto spawn = [&](Role role, int index, ProcessSlot& slot) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      auto open_writer = [&]() -> std::unique_ptr<WriterEndpoint> {
        if (!fan_out) return channels[0]->open_writer(index);
        std::vector<std::unique_ptr<WriterEndpoint>> writers;
        for (auto& c : channels) writers.push_back(c->open_writer(index));
        return std::make_unique<FanOutWriter>(std::move(writers));
      };
      auto open_reader = [&]() { return channels[fan_out ? static_cast<std::size_t>(index) : 0]->open_reader(index); };
      child_main(role, index, spec, *control.operator->(), control.samples(), slot, open_writer, open_reader, pin);
    }
    children.push_back(pid);
  };

  auto kill_all = [&] {
    for (pid_t pid : children) ::kill(pid, SIGKILL);
  };
  try {
    // Readers first, so that every reader is registered before the first message.
    for (int r = 0; r < spec.readers; ++r) spawn(Role::reader, r, control->slots[spec.writers + r]);
    for (int w = 0; w < spec.writers; ++w) spawn(Role::writer, w, control->slots[w]);
  } catch (const std::exception& e) {
    kill_all();
    for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
    result.failed = e.what();
    return result;
  }

  const auto total = static_cast<std::uint32_t>(spec.writers + spec.readers);
  const auto setup_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (control->ready.load(std::memory_order_acquire) < total && std::chrono::steady_clock::now() < setup_deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  control->go.store(1, std::memory_order_release);  // pairs with wait_for_go's acquire
  platform::wake_on_address(control->go);

  if (!latency) {
    const auto stop_at = std::chrono::steady_clock::now() + spec.duration;
    while (std::chrono::steady_clock::now() < stop_at && control->abort.load(std::memory_order_relaxed) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    control->stop.store(1, std::memory_order_relaxed);
  }

  const auto budget = std::chrono::seconds(30) + std::chrono::duration_cast<std::chrono::seconds>(spec.duration) +
                      std::chrono::duration_cast<std::chrono::seconds>(spec.latency_gap * spec.latency_samples * 3);
  const auto deadline = std::chrono::steady_clock::now() + (latency ? budget : std::chrono::seconds(30));
  std::vector<bool> reaped(children.size(), false);
  std::size_t left = children.size();
  bool timed_out = false;
  while (left > 0) {
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (reaped[i]) continue;
      int status = 0;
      if (::waitpid(children[i], &status, WNOHANG) == children[i]) {
        reaped[i] = true;
        --left;
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !result.failed) {
          result.failed = WIFSIGNALED(status) ? "a child died of signal " + std::to_string(WTERMSIG(status))
                                              : "a child exited with status " + std::to_string(WEXITSTATUS(status));
        }
      }
    }
    if (left == 0) break;
    if (!timed_out && std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      control->abort.store(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      kill_all();
      result.failed = "timed out (a side stopped making progress); children killed";
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  for (int i = 0; i < spec.writers + spec.readers; ++i) {
    if (control->slots[i].error[0] != '\0') {
      result.failed = control->slots[i].error;
      break;
    }
  }
  if (result.failed) return result;

  std::uint64_t first_start = ~std::uint64_t{0};
  std::uint64_t writers_end = 0;
  for (int w = 0; w < spec.writers; ++w) {
    const ProcessSlot& s = control->slots[w];
    result.sent += s.messages;
    first_start = std::min(first_start, s.start_ns);
    writers_end = std::max(writers_end, s.end_ns);
    result.cpu_writers_s += static_cast<double>(s.cpu_ns) / 1e9;
    result.wakes_writers += s.wakes;
  }
  std::uint64_t last_end = writers_end;
  double rate_sum = 0;
  for (int r = 0; r < spec.readers; ++r) {
    const ProcessSlot& s = control->slots[spec.writers + r];
    result.received += s.messages;
    result.order_errors += s.errors;
    result.reported_lost += s.reported_lost;
    result.cpu_readers_s += static_cast<double>(s.cpu_ns) / 1e9;
    result.wakes_readers += s.wakes;
    last_end = std::max(last_end, s.end_ns);
    const double seconds = static_cast<double>(s.end_ns - first_start) / 1e9;
    if (seconds > 0) rate_sum += static_cast<double>(s.messages) / seconds;
  }
  if (blob) {  // reads are not deliveries: rates of each side, and the values seen
    const ProcessSlot& reader0 = control->slots[spec.writers];
    result.distinct_values = reader0.per_writer[0];
    result.wall_s = static_cast<double>(last_end - first_start) / 1e9;
    result.msgs_per_s = rate_sum / spec.readers;  // reads per second per reader
    result.mb_per_s = result.msgs_per_s * static_cast<double>(spec.message_size) / 1e6;
    const double seconds = static_cast<double>(writers_end - first_start) / 1e9;
    if (seconds > 0) result.writer_msgs_per_s = static_cast<double>(result.sent) / seconds;
    if (result.order_errors != 0) result.failed = std::to_string(result.order_errors) + " torn values read";
    return result;
  }
  const std::uint64_t expected = result.sent * static_cast<std::uint64_t>(spec.readers);
  result.lost = expected > result.received ? expected - result.received : 0;
  if (result.received > expected) result.order_errors += result.received - expected;
  result.wall_s = static_cast<double>(last_end - first_start) / 1e9;
  result.msgs_per_s = rate_sum / spec.readers;
  result.mb_per_s = result.msgs_per_s * static_cast<double>(spec.message_size) / 1e6;
  const double writer_seconds = static_cast<double>(writers_end - first_start) / 1e9;
  if (writer_seconds > 0) result.writer_msgs_per_s = static_cast<double>(result.sent) / writer_seconds;
  if (spec.writers > 1) {
    const ProcessSlot& reader0 = control->slots[spec.writers];
    for (int w = 0; w < spec.writers; ++w) {
      result.writer_share.push_back(reader0.messages == 0 ? 0.0
                                                          : static_cast<double>(reader0.per_writer[w]) /
                                                                static_cast<double>(reader0.messages));
    }
  }
  if (latency) {
    result.latency = latency_stats(control.samples(), control.samples() + spec.latency_samples, spec.latency_samples);
  }
  if (result.order_errors != 0) {
    result.failed = std::to_string(result.order_errors) + " messages arrived duplicated, reordered or malformed";
  }
  return result;
}

const char* to_string(TransportKind kind) noexcept {
  switch (kind) {
    case TransportKind::floor: return "floor";
    case TransportKind::baseline_os: return "baseline-os";
    case TransportKind::baseline_lib: return "baseline-lib";
    case TransportKind::baseline_shm: return "baseline-shm";
    case TransportKind::stella: return "stella";
  }
  return "?";
}

}  // namespace stella::bench
