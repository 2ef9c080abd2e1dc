#include "bridge_nats_link.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace stella::daemon::nats_bridge {

std::mutex& graveyard_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::shared_ptr<Shared>>& graveyard() {
  static std::vector<std::shared_ptr<Shared>> g;
  return g;
}
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
std::int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
  const auto* b = static_cast<const BackoffClosure*>(closure);
  std::int64_t d = b->first_ms;
  for (int i = 1; i < attempts && d < b->max_ms; ++i) d *= 2;
  return std::min(d, b->max_ms);
}
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

ReaderOptions out_reader_options(const config::BridgeConfig& config) {
  ReaderOptions ro;
  ro.start = config.start == config::BridgeStart::oldest ? StartPosition::Oldest : StartPosition::Latest;
  return ro;
}


// Sleeps up to `d`, or until stopping or a callback has news.
void NatsLink::pause(nanoseconds d) {
  std::unique_lock lock(shared_->mutex);
  shared_->wake.wait_for(lock, d, [this] { return stopping(); });
}
void NatsLink::nap(nanoseconds d) {  // as pause(), but a callback (ack, connect) ends it early
  std::unique_lock lock(shared_->mutex);
  shared_->wake.wait_for(lock, d);
}

void NatsLink::fail(const std::string& what) {
  spdlog::error("bridge '{}': {}", config_.name, what);
  shared_->set_detail(what, true);
}

// Connects (in the background: cnats retries a failed first connect itself) with
// exponential reconnect backoff over the configured servers.
void NatsLink::connect(NatsSession& n) {
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
bool NatsLink::wait_connected() {
  while (!shared_->connected.load(std::memory_order_relaxed)) {
    if (stopping()) return false;
    pause(milliseconds(100));
  }
  return !stopping();
}

// The stream exists (created with the configured subject and replicas if it did not):
// retried with backoff until it works or the bridge stops.
bool NatsLink::ensure_stream(NatsSession& n) {
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

nanoseconds NatsLink::retry_delay() const {
  nanoseconds d = config_.reconnect_wait;
  const std::uint32_t failures = shared_->consecutive_failures.load(std::memory_order_relaxed);
  for (std::uint32_t i = 1; i < failures && d < config_.max_reconnect_wait; ++i) d *= 2;
  return std::min(d, config_.max_reconnect_wait);
}


}  // namespace stella::daemon::nats_bridge
