// Out-bridges: a ring's messages published to NATS, core (at most once) or JetStream (at
// least once: acknowledged publishes, resent with the same msg-id).
#include <spdlog/spdlog.h>

#include <optional>

#include "bridge_nats_link.hpp"
#include "stella/common/error.hpp"
#include "stella/common/segment.hpp"

namespace stella::daemon::nats_bridge {

// The msg-id prefix: the segment and its creation time, so that a ring removed and
// created again (sequences restart at 0) is never taken for the old one by the stream's
// duplicate window.
std::string OutLink::msg_id_prefix() const {
  const Segment seg = Segment::open(config_.segment, SegmentKind::ring, platform::Access::read_only);
  return config_.segment + "-" + std::to_string(seg.header().created_unix_ns) + "-";
}

// One message from the ring with its sequence number; false when none within `timeout`
// or when it was overwritten while copied (counted as lost by the reader).
bool OutLink::read_one(LockFreeBufferReader& reader, std::vector<std::byte>& out, std::uint64_t& seq, nanoseconds timeout) {
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

void OutLink::run(std::unique_ptr<LockFreeBufferReader> first) {
  // The reader first: from here on the ring keeps what NATS has not taken yet (a Block
  // ring waits for it; an Overwrite ring laps it, and the loss is counted).
  std::unique_ptr<LockFreeBufferReader> owned = std::move(first);
  if (!owned) owned = std::make_unique<LockFreeBufferReader>(config_.segment, out_reader_options(config_));
  LockFreeBufferReader& reader = *owned;
  NatsSession n;
  connect(n);
  if (config_.jetstream) {
    run_jetstream(n, reader);
  } else {
    run_core(n, reader);
  }
}

void OutLink::run_core(NatsSession& n, LockFreeBufferReader& reader) {
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

void OutLink::run_jetstream(NatsSession& n, LockFreeBufferReader& reader) {
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

}  // namespace stella::daemon::nats_bridge
