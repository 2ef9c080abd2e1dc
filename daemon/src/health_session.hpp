// The per-connection half of the health endpoint, shared by the platform transports
// (platform/posix/health_server.cpp: a Unix-domain socket; platform/windows/: a named
// pipe). A Session reads one request, answers it and closes, under the deadline described
// in health_server.hpp. Stream is an Asio stream (local::stream_protocol::socket or
// windows::stream_handle).
//
// Every open session is in one of two lists of Shared, oldest first: `waiting` (its
// request is not complete yet) and `answering` (its response is being written). When the
// server is full, make_room() drops the oldest waiting session — the one most likely to be
// an idle or slow client — or, when none waits, the oldest answering one. Everything here
// runs on the io_context's one thread; the counters are atomic only so that other threads
// may read them.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <system_error>

#include "stella/daemon/health_server.hpp"

namespace stella::daemon::detail {

/// Logs the first event of a burst and stays quiet until the events stop for kQuiet; the
/// next burst's first line says how many the previous one had.
class BurstLog {
 public:
  static constexpr std::chrono::seconds kQuiet{1};
  /// Counts one event at `now`; returns how many the previous burst had (>= 1) when this
  /// event starts a new burst and should be logged, 0 when it should not.
  [[nodiscard]] std::uint64_t note(std::chrono::steady_clock::time_point now) {
    const bool new_burst = count_ == 0 || now - last_ >= kQuiet;
    last_ = now;
    if (!new_burst) {
      ++count_;
      return 0;
    }
    const std::uint64_t previous = count_ == 0 ? 1 : count_;
    count_ = 1;
    return previous;
  }
  /// Events in the current (or last) burst.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// True while events came less than kQuiet ago.
  [[nodiscard]] bool active(std::chrono::steady_clock::time_point now) const noexcept {
    return count_ != 0 && now - last_ < kQuiet;
  }

 private:
  std::uint64_t count_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

/// What the server can do to a session it did not start the exchange of.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  /// Closes the connection now (idempotent); pending handlers end with operation_aborted.
  virtual void close() = 0;
  /// Nothing received and nothing waiting to be read: a client that has not spoken (a
  /// well-behaved client's request is often still in the socket, unread, when a burst of
  /// new connections makes the server full).
  [[nodiscard]] virtual bool idle() = 0;

 protected:
  friend struct Shared;
  std::list<SessionBase*>* list_ = nullptr;  // the list of Shared it is in, or nullptr
  std::list<SessionBase*>::iterator position_;
};

// What sessions share with the server; held by shared_ptr so that handlers still queued
// when the server goes away never touch freed memory.
struct Shared {
  HealthServer::Handler handler;
  std::atomic<std::int64_t> timeout_ns{0};
  std::atomic<std::size_t> open{0};  // sessions constructed and not yet destroyed
  std::atomic<std::size_t> cap{HealthServer::kMinConnections};
  std::atomic<std::uint64_t> served{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> evicted{0};
  std::atomic<std::uint64_t> accept_failures{0};
  // io thread only:
  std::list<SessionBase*> waiting, answering;
  BurstLog evictions;

  [[nodiscard]] std::size_t connected() const noexcept { return waiting.size() + answering.size(); }

  void enlist(SessionBase& s, std::list<SessionBase*>& list) {
    delist(s);
    s.list_ = &list;
    s.position_ = list.insert(list.end(), &s);
  }
  void delist(SessionBase& s) noexcept {
    if (s.list_ == nullptr) return;
    s.list_->erase(s.position_);
    s.list_ = nullptr;
  }

  /// How many of the oldest waiting sessions make_room() looks at for an idle one.
  static constexpr std::size_t kVictimScan = 32;

  /// Drops the oldest sessions until one more fits under the cap (the caller is about to
  /// start a session for a connection it accepted): the oldest idle one among the
  /// kVictimScan oldest waiting, else the oldest waiting, else the oldest answering.
  void make_room() {
    const std::size_t limit = cap.load(std::memory_order_relaxed);
    while (connected() >= limit && connected() > 0) {
      SessionBase* victim = nullptr;
      std::size_t looked = 0;
      for (auto it = waiting.begin(); it != waiting.end() && looked < kVictimScan && victim == nullptr; ++it, ++looked) {
        if ((*it)->idle()) victim = *it;
      }
      if (victim == nullptr) victim = !waiting.empty() ? waiting.front() : answering.front();
      victim->close();  // delists it
      evicted.fetch_add(1, std::memory_order_relaxed);
      dropped.fetch_add(1, std::memory_order_relaxed);
      if (const std::uint64_t previous = evictions.note(std::chrono::steady_clock::now()); previous != 0) {
        spdlog::warn("status socket: {} connections open (the cap): dropping the oldest idle ones to take new "
                     "ones{}",
                     limit, previous > 1 ? " (" + std::to_string(previous) + " in the previous burst)" : "");
      }
    }
  }

  /// Closes every session (the server stops).
  void close_all() {
    while (!waiting.empty()) waiting.front()->close();
    while (!answering.empty()) answering.front()->close();
  }
};

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(std::move(shared)) {
    shared_->open.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() override {
    shared_->delist(*this);
    shared_->open.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    shared_->enlist(*this, shared_->waiting);
    arm_deadline();
    read();
  }
  void close() override {
    closed_ = true;
    shared_->delist(*this);
    std::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  bool idle() override {
    if (!received_.empty()) return false;
    if constexpr (requires(Stream& s, std::error_code& e) { s.available(e); }) {
      std::error_code ec;
      const std::size_t pending = socket_.available(ec);
      return ec || pending == 0;  // a broken connection is as good as idle
    } else {
      return true;  // a named pipe: no cheap way to peek; what was read so far decides
    }
  }

 private:
  void arm_deadline() {
    // relaxed: a setting; the next connection sees a reload soon enough.
    timer_.expires_after(std::chrono::nanoseconds(shared_->timeout_ns.load(std::memory_order_relaxed)));
    timer_.async_wait([self = this->shared_from_this()](const std::error_code& ec) {
      if (ec) return;  // cancelled: the exchange finished
      self->shared_->dropped.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("status socket: dropped a client that did not finish in time");
      self->close();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_), [self = this->shared_from_this()](const std::error_code& ec, std::size_t n) {
      if (ec || self->closed_) {
        self->close();  // the client went away (or we closed it)
        return;
      }
      self->received_.append(self->chunk_.data(), n);
      self->on_bytes();
    });
  }

  void on_bytes() {
    const protocol::ParseResult parsed = protocol::parse_request(received_);
    if (!parsed.ok() && parsed.error.code == protocol::ErrorCode::incomplete) {
      read();
      return;
    }
    std::string response;
    if (parsed.ok()) {
      try {
        response = shared_->handler(*parsed.request);
        shared_->served.fetch_add(1, std::memory_order_relaxed);
      } catch (const std::exception& e) {
        spdlog::error("status socket: answering a request failed: {}", e.what());
        response = protocol::encode_error({protocol::ErrorCode::internal, e.what()});
      }
    } else {
      shared_->dropped.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("status socket: bad request ({}): {}", protocol::to_string(parsed.error.code),
                    parsed.error.message);
      response = protocol::encode_error(parsed.error);
    }
    std::string().swap(received_);  // what the client sent is no longer needed
    respond(std::move(response));
  }

  void respond(std::string response) {
    shared_->enlist(*this, shared_->answering);
    response_ = std::move(response);
    timer_.cancel();
    arm_deadline();  // the response gets a deadline of its own
    asio::async_write(socket_, asio::buffer(response_), [self = this->shared_from_this()](const std::error_code&, std::size_t) {
      // Done or failed: either way the exchange is over. Shut down the sending side first,
      // so the client reads the whole response and then EOF, never a reset.
      // (A named pipe has no half-close: the client still reads what was written before
      // the handle closes, then gets ERROR_BROKEN_PIPE, its EOF.)
      std::error_code ignored;
      if constexpr (requires(Stream& s) { s.shutdown(Stream::shutdown_send, ignored); }) {
        self->socket_.shutdown(Stream::shutdown_send, ignored);
      }
      self->close();
    });
  }

  Stream socket_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  std::array<char, 512> chunk_{};
  std::string received_;
  std::string response_;
  bool closed_ = false;
};

}  // namespace stella::daemon::detail
