// Bridges between rings and NATS through cnats (libnats). See bridge.hpp for the contract.
//
// Threads: each bridge has one thread of its own that owns its ring handle, its NATS
// connection and (for JetStream) its context and subscription. cnats calls back on threads
// of its own (connection events, publish acks); those callbacks touch only `Shared`, which
// is reference-counted and outlives the connection (see graveyard()).
#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>

#include "stella/common/error.hpp"
#include "stella/common/segment.hpp"
#include "stella/daemon/bridge.hpp"
#include "stella/ring.hpp"

namespace stella::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

std::int64_t to_ms(nanoseconds d) {
  return std::max<std::int64_t>(1, std::chrono::duration_cast<milliseconds>(d).count());
}

std::string nats_error(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0' && text.find(last) == std::string::npos) text += " (" + std::string(last) + ")";
  return text;
}

// What cnats callbacks may touch. Owned by shared_ptr: the bridge's reference and, once the
// bridge is gone, the graveyard's (a callback may still be running on a cnats thread after
// the connection is destroyed; nats_CloseAndWait at shutdown is the only join).
struct Shared {
  std::atomic<std::uint64_t> forwarded{0}, received{0}, lost{0}, publish_errors{0}, reconnects{0}, duplicates{0},
      backpressure_waits{0}, in_flight{0};
  std::atomic<bool> connected{false};
  std::atomic<bool> ever_connected{false};
  std::atomic<bool> closing{false};  // the bridge is stopping: its own close is no news
  std::atomic<std::uint32_t> consecutive_failures{0};  // publish errors since the last ack

  std::mutex mutex;  // guards the fields below
  std::condition_variable wake;
  std::deque<natsMsg*> retry;  // out + JetStream: messages whose publish failed, resent with their msg-id
  std::string detail;
  bool failed = false;  // setup failed (ring missing, stream not creatable, ...): retrying
  std::string name;

  Shared() = default;
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() {
    for (natsMsg* m : retry) natsMsg_Destroy(m);
  }

  void set_detail(std::string text, bool is_failure) {
    std::lock_guard lock(mutex);
    detail = std::move(text);
    failed = is_failure;
  }
  void clear_failure() {
    std::lock_guard lock(mutex);
    if (failed) detail.clear();
    failed = false;
  }
};

std::mutex& graveyard_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::shared_ptr<Shared>>& graveyard() {
  static std::vector<std::shared_ptr<Shared>> g;
  return g;
}

// cnats callbacks (C linkage not required: cnats takes plain function pointers).
void on_connected(natsConnection*, void* closure) {
  auto* s = static_cast<Shared*>(closure);
  s->connected.store(true, std::memory_order_relaxed);
  s->ever_connected.store(true, std::memory_order_relaxed);
  spdlog::info("bridge '{}': connected to NATS", s->name);
  s->wake.notify_all();
}
void on_disconnected(natsConnection*, void* closure) {
  auto* s = static_cast<Shared*>(closure);
  if (s->connected.exchange(false, std::memory_order_relaxed) && !s->closing.load(std::memory_order_relaxed)) {
    spdlog::warn("bridge '{}': disconnected from NATS; reconnecting with backoff", s->name);
  }
}
void on_reconnected(natsConnection*, void* closure) {
  auto* s = static_cast<Shared*>(closure);
  s->reconnects.fetch_add(1, std::memory_order_relaxed);
  s->connected.store(true, std::memory_order_relaxed);
  s->ever_connected.store(true, std::memory_order_relaxed);
  spdlog::info("bridge '{}': reconnected to NATS", s->name);
  s->wake.notify_all();
}

struct BackoffClosure {
  std::int64_t first_ms;
  std::int64_t max_ms;
};
// cnats asks for the delay before each reconnect attempt: exponential from reconnect_wait to
// max_reconnect_wait. `attempts` counts the passes over the whole server list.
std::int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
  const auto* b = static_cast<const BackoffClosure*>(closure);
  std::int64_t d = b->first_ms;
  for (int i = 1; i < attempts && d < b->max_ms; ++i) d *= 2;
  return std::min(d, b->max_ms);
}

// Publish acks (out + JetStream), on a cnats thread.
void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
  auto* s = static_cast<Shared*>(closure);
  if (ack != nullptr) {
    s->forwarded.fetch_add(1, std::memory_order_relaxed);
    if (ack->Duplicate) s->duplicates.fetch_add(1, std::memory_order_relaxed);
    s->in_flight.fetch_sub(1, std::memory_order_relaxed);
    s->consecutive_failures.store(0, std::memory_order_relaxed);
    natsMsg_Destroy(msg);  // AckHandler mode: the message is ours to destroy
  } else {
    s->publish_errors.fetch_add(1, std::memory_order_relaxed);
    s->consecutive_failures.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(s->mutex);
    s->detail = "publish failed, retrying with the same msg-id: " +
                (err != nullptr && err->ErrText != nullptr ? std::string(err->ErrText)
                                                           : std::string(natsStatus_GetText(err != nullptr ? err->Err : NATS_ERR)));
    s->retry.push_back(msg);  // kept (not destroyed) and resent by the bridge thread
  }
  s->wake.notify_all();
}

// RAII over the cnats objects of one session.
struct NatsSession {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  BackoffClosure backoff{};

  NatsSession() = default;
  NatsSession(const NatsSession&) = delete;
  NatsSession& operator=(const NatsSession&) = delete;
  ~NatsSession() {
    if (sub != nullptr) natsSubscription_Destroy(sub);
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
    if (opts != nullptr) natsOptions_Destroy(opts);
  }
};

class Backoff {
 public:
  Backoff(nanoseconds first, nanoseconds max) : first_(first), max_(max), next_(first) {}
  nanoseconds next() {
    const nanoseconds d = next_;
    next_ = std::min(max_, next_ * 2);
    return d;
  }
  void reset() { next_ = first_; }

 private:
  nanoseconds first_, max_, next_;
};

class NatsBridge final : public Bridge {
 public:
  explicit NatsBridge(config::BridgeConfig c) : config_(std::move(c)), shared_(std::make_shared<Shared>()) {
    shared_->name = config_.name;
    // An out-bridge's reader is registered here, before stellad says it is ready, so that
    // every message written after READY is the bridge's to forward (its thread could start
    // late). If the ring cannot be opened now, run_out() retries and reports it.
    if (config_.direction == config::BridgeDirection::out) {
      try {
        first_reader_ = std::make_unique<LockFreeBufferReader>(config_.segment, reader_options());
      } catch (const std::exception&) {
        first_reader_.reset();
      }
    }
    thread_ = std::thread([this] { run(); });
  }

  ~NatsBridge() override {
    stop_.store(true, std::memory_order_relaxed);
    shared_->closing.store(true, std::memory_order_relaxed);
    {
      std::lock_guard lock(shared_->mutex);  // pairs with the waits on `wake`: no lost wake-up
    }
    shared_->wake.notify_all();
    thread_.join();
    std::lock_guard lock(graveyard_mutex());
    graveyard().push_back(std::move(shared_));
  }

  [[nodiscard]] protocol::BridgeReport report() const override {
    const Shared& s = *shared_;
    protocol::BridgeReport r;
    r.name = config_.name;
    r.segment = config_.segment;
    r.direction = std::string(config::to_string(config_.direction));
    r.subject = config_.subject;
    r.stream = config_.jetstream ? config_.stream : std::string();
    r.connected = s.connected.load(std::memory_order_relaxed);
    r.forwarded = s.forwarded.load(std::memory_order_relaxed);
    r.received = s.received.load(std::memory_order_relaxed);
    r.lost = s.lost.load(std::memory_order_relaxed);
    r.publish_errors = s.publish_errors.load(std::memory_order_relaxed);
    r.reconnects = s.reconnects.load(std::memory_order_relaxed);
    r.duplicates = s.duplicates.load(std::memory_order_relaxed);
    r.backpressure_waits = s.backpressure_waits.load(std::memory_order_relaxed);
    r.in_flight = s.in_flight.load(std::memory_order_relaxed);
    bool failed = false;
    {
      std::lock_guard lock(shared_->mutex);
      r.detail = s.detail;
      failed = s.failed;
    }
    if (failed) {
      r.state = "failed";
    } else if (r.connected) {
      r.state = "connected";
    } else {
      r.state = s.ever_connected.load(std::memory_order_relaxed) ? "disconnected" : "connecting";
    }
    return r;
  }

 private:
  [[nodiscard]] bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }

  // Sleeps up to `d`, or until stopping or a callback has news.
  void pause(nanoseconds d) {
    std::unique_lock lock(shared_->mutex);
    shared_->wake.wait_for(lock, d, [this] { return stopping(); });
  }
  void nap(nanoseconds d) {  // as pause(), but a callback (ack, connect) ends it early
    std::unique_lock lock(shared_->mutex);
    shared_->wake.wait_for(lock, d);
  }

  void fail(const std::string& what) {
    spdlog::error("bridge '{}': {}", config_.name, what);
    shared_->set_detail(what, true);
  }

  void run() {
    Backoff backoff(config_.reconnect_wait, config_.max_reconnect_wait);
    while (!stopping()) {
      try {
        if (config_.direction == config::BridgeDirection::out) {
          run_out();
        } else {
          run_in();
        }
        return;
      } catch (const std::exception& e) {
        fail(e.what());
      }
      shared_->connected.store(false, std::memory_order_relaxed);
      pause(backoff.next());
    }
  }

  // Connects (in the background: cnats retries a failed first connect itself) with
  // exponential reconnect backoff over the configured servers.
  void connect(NatsSession& n) {
    auto check = [&](natsStatus s, const char* what) {
      if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + nats_error(s));
    };
    check(natsOptions_Create(&n.opts), "natsOptions_Create");
    std::vector<const char*> servers;
    for (const std::string& u : config_.urls) servers.push_back(u.c_str());
    check(natsOptions_SetServers(n.opts, servers.data(), static_cast<int>(servers.size())), "bad server list");
    const std::string client_name = "stellad bridge " + config_.name;
    check(natsOptions_SetName(n.opts, client_name.c_str()), "natsOptions_SetName");
    check(natsOptions_SetMaxReconnect(n.opts, -1), "natsOptions_SetMaxReconnect");
    n.backoff = {to_ms(config_.reconnect_wait), to_ms(config_.max_reconnect_wait)};
    check(natsOptions_SetCustomReconnectDelay(n.opts, reconnect_delay, &n.backoff), "natsOptions_SetCustomReconnectDelay");
    check(natsOptions_SetTimeout(n.opts, 2000), "natsOptions_SetTimeout");
    check(natsOptions_SetPingInterval(n.opts, 5000), "natsOptions_SetPingInterval");
    check(natsOptions_SetMaxPingsOut(n.opts, 3), "natsOptions_SetMaxPingsOut");
    check(natsOptions_SetDisconnectedCB(n.opts, on_disconnected, shared_.get()), "natsOptions_SetDisconnectedCB");
    check(natsOptions_SetReconnectedCB(n.opts, on_reconnected, shared_.get()), "natsOptions_SetReconnectedCB");
    check(natsOptions_SetRetryOnFailedConnect(n.opts, true, on_connected, shared_.get()),
          "natsOptions_SetRetryOnFailedConnect");
    const natsStatus s = natsConnection_Connect(&n.nc, n.opts);
    if (s == NATS_OK) {
      on_connected(n.nc, shared_.get());
    } else if (s != NATS_NOT_YET_CONNECTED) {
      check(s, "cannot connect to NATS");
    }
  }

  // Waits for the connection; false when stopping first.
  bool wait_connected() {
    while (!shared_->connected.load(std::memory_order_relaxed)) {
      if (stopping()) return false;
      pause(milliseconds(100));
    }
    return !stopping();
  }

  // The stream exists (created with the configured subject and replicas if it did not):
  // retried with backoff until it works or the bridge stops.
  bool ensure_stream(NatsSession& n) {
    const natsStatus cs = natsConnection_JetStream(&n.js, n.nc, nullptr);
    if (cs != NATS_OK) throw std::runtime_error("cannot create a JetStream context: " + nats_error(cs));
    Backoff backoff(config_.reconnect_wait, config_.max_reconnect_wait);
    while (wait_connected()) {
      jsStreamInfo* info = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_GetStreamInfo(&info, n.js, config_.stream.c_str(), nullptr, &jerr);
      if (s == NATS_NOT_FOUND) {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        const char* subjects[] = {config_.subject.c_str()};
        cfg.Name = config_.stream.c_str();
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.Replicas = config_.replicas;
        s = js_AddStream(&info, n.js, &cfg, nullptr, &jerr);
        if (s == NATS_OK) {
          spdlog::info("bridge '{}': created JetStream stream '{}' (subject {}, {} replica(s))", config_.name,
                       config_.stream, config_.subject, config_.replicas);
        } else if (s != NATS_OK) {
          // Another bridge may have created it meanwhile: look again next time round.
          jsStreamInfo_Destroy(info);
          info = nullptr;
        }
      }
      if (info != nullptr) jsStreamInfo_Destroy(info);
      if (s == NATS_OK) {
        shared_->clear_failure();
        return true;
      }
      fail("JetStream stream '" + config_.stream + "' is not available: " + nats_error(s) +
           (jerr != 0 ? " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")" : std::string()));
      pause(backoff.next());
    }
    return false;
  }

  // The msg-id prefix: the segment and its creation time, so that a ring removed and
  // created again (sequences restart at 0) is never taken for the old one by the stream's
  // duplicate window.
  std::string msg_id_prefix() const {
    const Segment seg = Segment::open(config_.segment, SegmentKind::ring, platform::Access::read_only);
    return config_.segment + "-" + std::to_string(seg.header().created_unix_ns) + "-";
  }

  // One message from the ring with its sequence number; false when none within `timeout`
  // or when it was overwritten while copied (counted as lost by the reader).
  bool read_one(LockFreeBufferReader& reader, std::vector<std::byte>& out, std::uint64_t& seq, nanoseconds timeout) {
    std::optional<LockFreeBufferReader::View> v;
    try {
      v = reader.peek(timeout);
    } catch (const Error& e) {
      if (e.code() != Errc::evicted) throw;
      spdlog::warn("bridge '{}': the reaper evicted this bridge's reader (stalled past daemon.stall_eviction); "
                   "resuming at the oldest message",
                   config_.name);
      shared_->lost.store(reader.messages_lost(), std::memory_order_relaxed);
      return false;
    }
    if (!v) return false;
    out.assign(v->data().begin(), v->data().end());
    seq = v->sequence();
    const bool intact = reader.release();
    shared_->lost.store(reader.messages_lost(), std::memory_order_relaxed);
    if (!intact) return false;
    shared_->received.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  ReaderOptions reader_options() const {
    ReaderOptions ro;
    ro.start = config_.start == config::BridgeStart::oldest ? StartPosition::Oldest : StartPosition::Latest;
    return ro;
  }

  void run_out() {
    // The reader first: from here on the ring keeps what NATS has not taken yet (a Block
    // ring waits for it; an Overwrite ring laps it, and the loss is counted).
    std::unique_ptr<LockFreeBufferReader> owned = std::move(first_reader_);
    if (!owned) owned = std::make_unique<LockFreeBufferReader>(config_.segment, reader_options());
    LockFreeBufferReader& reader = *owned;
    NatsSession n;
    connect(n);
    if (config_.jetstream) {
      run_out_jetstream(n, reader);
    } else {
      run_out_core(n, reader);
    }
  }

  void run_out_core(NatsSession& n, LockFreeBufferReader& reader) {
    shared_->clear_failure();
    Backoff backoff(config_.reconnect_wait, config_.max_reconnect_wait);
    std::vector<std::byte> held;
    std::uint64_t seq = 0;
    bool have = false;
    while (!stopping()) {
      // Not connected: do not read; the ring is the buffer.
      if (!shared_->connected.load(std::memory_order_relaxed)) {
        pause(milliseconds(50));
        continue;
      }
      if (!have) {
        if (!read_one(reader, held, seq, milliseconds(50))) continue;
        have = true;
      }
      const natsStatus s =
          natsConnection_Publish(n.nc, config_.subject.c_str(), held.data(), static_cast<int>(held.size()));
      if (s == NATS_OK) {
        shared_->forwarded.fetch_add(1, std::memory_order_relaxed);
        have = false;
        backoff.reset();
      } else {
        shared_->publish_errors.fetch_add(1, std::memory_order_relaxed);
        shared_->set_detail("publish failed, retrying: " + nats_error(s), false);
        pause(backoff.next());
      }
    }
    if (shared_->connected.load(std::memory_order_relaxed)) (void)natsConnection_FlushTimeout(n.nc, 1000);
  }

  nanoseconds retry_delay() const {
    nanoseconds d = config_.reconnect_wait;
    const std::uint32_t failures = shared_->consecutive_failures.load(std::memory_order_relaxed);
    for (std::uint32_t i = 1; i < failures && d < config_.max_reconnect_wait; ++i) d *= 2;
    return std::min(d, config_.max_reconnect_wait);
  }

  void run_out_jetstream(NatsSession& n, LockFreeBufferReader& reader) {
    if (!ensure_stream(n)) return;
    // A second context for publishing, with the ack handler and the in-flight limit.
    jsCtx* js = nullptr;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = to_ms(config_.ack_timeout);
    jo.PublishAsync.MaxPending = config_.max_in_flight;
    jo.PublishAsync.AckHandler = on_publish_ack;
    jo.PublishAsync.AckHandlerClosure = shared_.get();
    natsStatus cs = natsConnection_JetStream(&js, n.nc, &jo);
    if (cs != NATS_OK) throw std::runtime_error("cannot create a JetStream context: " + nats_error(cs));
    jsCtx_Destroy(n.js);
    n.js = js;

    const std::string prefix = msg_id_prefix();
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = to_ms(config_.ack_timeout);
    po.ExpectStream = config_.stream.c_str();
    std::vector<std::byte> buf;
    std::string msg_id;
    Clock::time_point retry_at{};

    while (!stopping()) {
      // 1. Resend what failed (same message, same Nats-Msg-Id header), after a backoff.
      std::deque<natsMsg*> again;
      {
        std::lock_guard lock(shared_->mutex);
        if (!shared_->retry.empty()) {
          if (retry_at == Clock::time_point{}) retry_at = Clock::now() + retry_delay();
          if (Clock::now() >= retry_at) {
            again.swap(shared_->retry);
            retry_at = {};
          }
        }
      }
      while (!again.empty()) {
        natsMsg* m = again.front();
        const natsStatus s = js_PublishMsgAsync(n.js, &m, &po);
        if (s == NATS_OK) {
          again.pop_front();
          continue;
        }
        // Not even queued (e.g. closed while reconnecting): back to the queue, in order.
        shared_->publish_errors.fetch_add(1, std::memory_order_relaxed);
        shared_->consecutive_failures.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(shared_->mutex);
        shared_->retry.insert(shared_->retry.begin(), again.begin(), again.end());
        again.clear();
        retry_at = Clock::now() + retry_delay();
      }

      // 2. New messages, while NATS takes them. With failed publishes waiting or the
      // in-flight window full, stop reading: the ring is the buffer.
      bool retry_pending = false;
      {
        std::lock_guard lock(shared_->mutex);
        retry_pending = !shared_->retry.empty();
      }
      if (retry_pending || !shared_->connected.load(std::memory_order_relaxed) ||
          shared_->in_flight.load(std::memory_order_relaxed) >= config_.max_in_flight) {
        nap(milliseconds(20));
        continue;
      }
      std::uint64_t seq = 0;
      if (!read_one(reader, buf, seq, milliseconds(20))) continue;
      natsMsg* m = nullptr;
      natsStatus s = natsMsg_Create(&m, config_.subject.c_str(), nullptr, reinterpret_cast<const char*>(buf.data()),
                                    static_cast<int>(buf.size()));
      if (s != NATS_OK) throw std::runtime_error("natsMsg_Create: " + nats_error(s));
      msg_id = prefix + std::to_string(seq);
      s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id.c_str());
      if (s != NATS_OK) {
        natsMsg_Destroy(m);
        throw std::runtime_error("natsMsgHeader_Set: " + nats_error(s));
      }
      shared_->in_flight.fetch_add(1, std::memory_order_relaxed);
      s = js_PublishMsgAsync(n.js, &m, &po);
      if (s != NATS_OK) {
        shared_->publish_errors.fetch_add(1, std::memory_order_relaxed);
        shared_->consecutive_failures.fetch_add(1, std::memory_order_relaxed);
        shared_->set_detail("publish failed, retrying with the same msg-id: " + nats_error(s), false);
        if (m != nullptr) {
          std::lock_guard lock(shared_->mutex);
          shared_->retry.push_back(m);
        }
      }
    }
    // Give what is in flight a moment to be acknowledged. What is not acknowledged by
    // then is lost to this run (a next run starting at "oldest" resends what the ring
    // still holds, and the stream drops what it already has, by msg-id).
    jsPubOptions done;
    jsPubOptions_Init(&done);
    done.MaxWait = 1000;
    (void)js_PublishAsyncComplete(n.js, &done);
  }

  // ---- in ----

  // Writes one message into the ring. A Block ring without space: wait write_timeout,
  // count it, tell JetStream the message is in progress, and try again — never drop.
  // False only when stopping first (the message was not written).
  bool write_message(MultiWriterCircularBuffer& writer, natsMsg* m, bool jetstream) {
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(m));
    const auto size = static_cast<std::size_t>(natsMsg_GetDataLength(m));
    if (size > writer.max_message_size()) {
      shared_->lost.fetch_add(1, std::memory_order_relaxed);
      const std::string what = "dropped a message of " + std::to_string(size) + " bytes: the ring's largest is " +
                               std::to_string(writer.max_message_size());
      spdlog::error("bridge '{}': {}", config_.name, what);
      shared_->set_detail(what, false);
      if (jetstream) (void)natsMsg_Term(m, nullptr);  // never redelivered: it can never fit
      return true;
    }
    for (;;) {
      if (writer.write_bytes(std::span<const std::byte>(data, size), config_.write_timeout) == WriteResult::Ok) {
        return true;
      }
      shared_->backpressure_waits.fetch_add(1, std::memory_order_relaxed);
      if (jetstream) (void)natsMsg_InProgress(m, nullptr);  // restarts the consumer's AckWait
      if (stopping()) return false;
    }
  }

  void run_in() {
    MultiWriterCircularBuffer writer(config_.segment, SharedMemoryMode::Open);
    NatsSession n;
    connect(n);
    if (config_.jetstream) {
      run_in_jetstream(n, writer);
    } else {
      run_in_core(n, writer);
    }
  }

  void run_in_core(NatsSession& n, MultiWriterCircularBuffer& writer) {
    natsStatus s = natsConnection_SubscribeSync(&n.sub, n.nc, config_.subject.c_str());
    if (s != NATS_OK) throw std::runtime_error("cannot subscribe to " + config_.subject + ": " + nats_error(s));
    // Core NATS drops for a consumer that falls this far behind; the drops are counted.
    (void)natsSubscription_SetPendingLimits(n.sub, 1 << 20, 1 << 30);
    shared_->clear_failure();
    Backoff backoff(config_.reconnect_wait, config_.max_reconnect_wait);
    while (!stopping()) {
      natsMsg* m = nullptr;
      s = natsSubscription_NextMsg(&m, n.sub, 100);
      std::int64_t dropped = 0;
      if (natsSubscription_GetDropped(n.sub, &dropped) == NATS_OK && dropped > 0) {
        shared_->lost.store(static_cast<std::uint64_t>(dropped), std::memory_order_relaxed);
      }
      if (s == NATS_TIMEOUT || s == NATS_SLOW_CONSUMER) continue;
      if (s != NATS_OK) {
        shared_->publish_errors.fetch_add(1, std::memory_order_relaxed);
        shared_->set_detail("receive failed: " + nats_error(s), false);
        pause(backoff.next());
        continue;
      }
      backoff.reset();
      shared_->received.fetch_add(1, std::memory_order_relaxed);
      if (write_message(writer, m, false)) {
        shared_->forwarded.fetch_add(1, std::memory_order_relaxed);
      } else {
        shared_->lost.fetch_add(1, std::memory_order_relaxed);  // stopping on a full Block ring
      }
      natsMsg_Destroy(m);
    }
  }

  void run_in_jetstream(NatsSession& n, MultiWriterCircularBuffer& writer) {
    if (!ensure_stream(n)) return;
    Backoff backoff(config_.reconnect_wait, config_.max_reconnect_wait);
    while (n.sub == nullptr) {
      if (!wait_connected()) return;
      jsSubOptions so;
      jsSubOptions_Init(&so);
      so.Stream = config_.stream.c_str();
      so.Config.AckPolicy = js_AckExplicit;
      so.Config.DeliverPolicy = js_DeliverAll;
      // Unacknowledged messages come back after AckWait; a write held up by a Block ring
      // renews it (InProgress) every write_timeout.
      so.Config.AckWait = std::max<std::int64_t>(10'000'000'000LL, 3 * config_.write_timeout.count());
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s =
          js_PullSubscribe(&n.sub, n.js, config_.subject.c_str(), config_.durable.c_str(), nullptr, &so, &jerr);
      if (s != NATS_OK) {
        n.sub = nullptr;
        fail("cannot create or bind the durable consumer '" + config_.durable + "' on stream '" + config_.stream +
             "': " + nats_error(s));
        pause(backoff.next());
      }
    }
    shared_->clear_failure();
    backoff.reset();

    // Stream sequences written recently: a redelivery (its ack was lost, e.g. to a server
    // that died) of a message already in the ring is acknowledged, not written twice.
    constexpr std::size_t kRemembered = 1 << 16;
    std::unordered_set<std::uint64_t> written;
    std::deque<std::uint64_t> order;
    const int batch = static_cast<int>(config_.batch);

    while (!stopping()) {
      natsMsgList list{};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s = natsSubscription_Fetch(&list, n.sub, batch, 500, &jerr);
      if (list.Count == 0) {
        natsMsgList_Destroy(&list);
        if (s == NATS_OK || s == NATS_TIMEOUT) continue;
        shared_->publish_errors.fetch_add(1, std::memory_order_relaxed);
        shared_->set_detail("fetch failed: " + nats_error(s), false);
        pause(backoff.next());
        continue;
      }
      backoff.reset();
      for (int i = 0; i < list.Count && !stopping(); ++i) {
        natsMsg* m = list.Msgs[i];
        shared_->received.fetch_add(1, std::memory_order_relaxed);
        std::uint64_t stream_seq = 0;
        bool redelivered = false;
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
          stream_seq = meta->Sequence.Stream;
          redelivered = meta->NumDelivered > 1;
          jsMsgMetaData_Destroy(meta);
        }
        if (redelivered && stream_seq != 0 && written.contains(stream_seq)) {
          shared_->duplicates.fetch_add(1, std::memory_order_relaxed);
          (void)natsMsg_Ack(m, nullptr);
          continue;
        }
        if (!write_message(writer, m, true)) break;  // stopping: left unacknowledged, redelivered later
        shared_->forwarded.fetch_add(1, std::memory_order_relaxed);
        if (stream_seq != 0 && written.insert(stream_seq).second) {
          order.push_back(stream_seq);
          if (order.size() > kRemembered) {
            written.erase(order.front());
            order.pop_front();
          }
        }
        // Acknowledged only now that the message is in the ring.
        if (const natsStatus a = natsMsg_Ack(m, nullptr); a != NATS_OK) {
          shared_->publish_errors.fetch_add(1, std::memory_order_relaxed);
          shared_->set_detail("ack failed (the message will be redelivered and skipped): " + nats_error(a), false);
        }
      }
      natsMsgList_Destroy(&list);
    }
  }

  config::BridgeConfig config_;
  std::shared_ptr<Shared> shared_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<LockFreeBufferReader> first_reader_;  // taken by run_out()
  std::thread thread_;
};

std::atomic<bool> g_nats_used{false};

}  // namespace

std::unique_ptr<Bridge> start_bridge(const config::BridgeConfig& config) {
  g_nats_used.store(true, std::memory_order_relaxed);
  return std::make_unique<NatsBridge>(config);
}

bool bridges_supported() noexcept { return true; }

void shutdown_bridges() noexcept {
  // Every bridge has stopped: wait for cnats's own threads, then drop what callbacks held.
  if (!g_nats_used.exchange(false, std::memory_order_relaxed)) return;
  (void)nats_CloseAndWait(2000);
  std::lock_guard lock(graveyard_mutex());
  graveyard().clear();
}

}  // namespace stella::daemon
