// In-bridges: NATS messages written into a ring, from a core subscription or a durable
// JetStream pull consumer (acknowledged once in the ring; redeliveries skipped).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>
#include <unordered_set>

#include "bridge_nats_link.hpp"

namespace stella::daemon::nats_bridge {

// Writes one message into the ring. A Block ring without space: wait write_timeout,
// count it, tell JetStream the message is in progress, and try again — never drop.
// False only when stopping first (the message was not written).
bool InLink::write_message(MultiWriterCircularBuffer& writer, natsMsg* m, bool jetstream) {
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

void InLink::run() {
  MultiWriterCircularBuffer writer(config_.segment, SharedMemoryMode::Open);
  NatsSession n;
  connect(n);
  if (config_.jetstream) {
    run_jetstream(n, writer);
  } else {
    run_core(n, writer);
  }
}

void InLink::run_core(NatsSession& n, MultiWriterCircularBuffer& writer) {
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

void InLink::run_jetstream(NatsSession& n, MultiWriterCircularBuffer& writer) {
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

}  // namespace stella::daemon::nats_bridge
