// What the four kinds of NATS bridge (out/in x core/JetStream) share: the state cnats's
// callbacks touch (Shared), one session's cnats objects (NatsSession), backoff, and
// NatsLink, the base of bridge_nats_out.cpp and bridge_nats_in.cpp (connecting, waiting,
// the JetStream stream, failure reports).
//
// Threads: each bridge has one thread of its own that owns its ring handle, its NATS
// connection and (for JetStream) its context and subscription. cnats calls back on threads
// of its own (connection events, publish acks); those callbacks touch only `Shared`, which
// is reference-counted and outlives the connection (see graveyard()).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stella/config/config.hpp"
#include "stella/ring.hpp"

namespace stella::daemon::nats_bridge {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

inline std::int64_t to_ms(nanoseconds d) {
  return std::max<std::int64_t>(1, std::chrono::duration_cast<milliseconds>(d).count());
}

inline std::string nats_error(natsStatus s) {
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


// cnats callbacks (C linkage not required: cnats takes plain function pointers).

struct BackoffClosure {
  std::int64_t first_ms;
  std::int64_t max_ms;
};
// cnats asks for the delay before each reconnect attempt: exponential from reconnect_wait to
// max_reconnect_wait. `attempts` counts the passes over the whole server list.

// Publish acks (out + JetStream), on a cnats thread.

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

// The Shared of stopped bridges, kept until cnats's threads are gone (shutdown_bridges).
std::mutex& graveyard_mutex();
std::vector<std::shared_ptr<Shared>>& graveyard();
// cnats callbacks; `closure` is the bridge's Shared (BackoffClosure for reconnect_delay).
void on_connected(natsConnection*, void* closure);
void on_disconnected(natsConnection*, void* closure);
void on_reconnected(natsConnection*, void* closure);
std::int64_t reconnect_delay(natsConnection*, int attempts, void* closure);
void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure);

/// Where an out-bridge's reader starts.
ReaderOptions out_reader_options(const config::BridgeConfig& config);

/// The base of each direction's bridge: its settings, its Shared, its stop flag, and what
/// every mode does with them.
class NatsLink {
 public:
  NatsLink(const config::BridgeConfig& config, std::shared_ptr<Shared> shared, const std::atomic<bool>& stop)
      : config_(config), shared_(std::move(shared)), stop_(stop) {}

 protected:
  [[nodiscard]] bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // Sleeps up to `d`, or until stopping or a callback has news.
  void pause(nanoseconds d);
  void nap(nanoseconds d);  // as pause(), but a callback (ack, connect) ends it early
  void fail(const std::string& what);
  // Connects (in the background: cnats retries a failed first connect itself) with
  // exponential reconnect backoff over the configured servers.
  void connect(NatsSession& n);
  // Waits for the connection; false when stopping first.
  bool wait_connected();
  // The stream exists (created with the configured subject and replicas if it did not):
  // retried with backoff until it works or the bridge stops.
  bool ensure_stream(NatsSession& n);
  // The pause before resending failed publishes: reconnect_wait doubled per failure in a row.
  [[nodiscard]] nanoseconds retry_delay() const;

  const config::BridgeConfig& config_;
  std::shared_ptr<Shared> shared_;
  const std::atomic<bool>& stop_;
};

/// ring -> NATS (bridge_nats_out.cpp).
class OutLink final : public NatsLink {
 public:
  using NatsLink::NatsLink;
  /// Until stopping; `first` is the reader registered when the bridge started (or null).
  void run(std::unique_ptr<LockFreeBufferReader> first);

 private:
  std::string msg_id_prefix() const;
  bool read_one(LockFreeBufferReader& reader, std::vector<std::byte>& out, std::uint64_t& seq, nanoseconds timeout);
  void run_core(NatsSession& n, LockFreeBufferReader& reader);
  void run_jetstream(NatsSession& n, LockFreeBufferReader& reader);
};

/// NATS -> ring (bridge_nats_in.cpp).
class InLink final : public NatsLink {
 public:
  using NatsLink::NatsLink;
  void run();

 private:
  bool write_message(MultiWriterCircularBuffer& writer, natsMsg* m, bool jetstream);
  void run_core(NatsSession& n, MultiWriterCircularBuffer& writer);
  void run_jetstream(NatsSession& n, MultiWriterCircularBuffer& writer);
};

}  // namespace stella::daemon::nats_bridge
