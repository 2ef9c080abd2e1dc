// The per-connection half of the health endpoint, shared by the platform transports
// (platform/posix/health_server.cpp: a Unix-domain socket; platform/windows/: a named
// pipe). A Session reads one request, answers it and closes, under the deadline described
// in health_server.hpp. Stream is an Asio stream (local::stream_protocol::socket or
// windows::stream_handle).
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <system_error>

#include "stella/daemon/health_server.hpp"

namespace stella::daemon::detail {

// What sessions share with the server; held by shared_ptr so that handlers still queued
// when the server goes away never touch freed memory.
struct Shared {
  HealthServer::Handler handler;
  std::atomic<std::int64_t> timeout_ns{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> served{0};
  std::atomic<std::uint64_t> dropped{0};
};

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(std::move(shared)) {
    shared_->open.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() { shared_->open.fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    arm_deadline();
    read();
  }
  void close() {
    std::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
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
      if (ec) {
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
    respond(std::move(response));
  }

  void respond(std::string response) {
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
  std::array<char, 1024> chunk_{};
  std::string received_;
  std::string response_;
};

}  // namespace stella::daemon::detail
