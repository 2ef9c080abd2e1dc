// HealthServer: the Unix-domain status socket, served with Asio on the caller's io_context.
//
// One request per connection (protocol.hpp). Each connection gets a deadline (the config's
// client_timeout) covering its request and, afresh, its response: a client that sends
// nothing, sends too slowly, never reads, or sends garbage is dropped when it expires or as
// soon as its bytes cannot be a request (more than kMaxRequestBytes without a newline),
// without affecting other connections. The reaper runs on its own thread, so no client,
// however hostile, delays it. At most kMaxConnections are open at once; more are closed
// at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "stella/daemon/protocol.hpp"

namespace asio {
class io_context;
}

namespace stella::daemon {

class HealthServer {
 public:
  static constexpr std::size_t kMaxConnections = 1024;
  /// Computes the full response (one JSON line) to a parsed request; runs on the io thread.
  using Handler = std::function<std::string(const protocol::Request&)>;

  HealthServer(asio::io_context& io, std::filesystem::path socket, std::uint32_t mode,
               std::chrono::nanoseconds client_timeout, Handler handler);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  /// Binds and listens (replacing a stale socket file; the caller holds the instance lock),
  /// applies `mode` to the socket file, and starts accepting. Throws std::runtime_error.
  void start();
  /// Stops accepting, drops every connection and removes the socket file.
  void stop();
  void set_client_timeout(std::chrono::nanoseconds timeout);
  /// Changes the socket file's mode (a reload).
  void set_mode(std::uint32_t mode);

  [[nodiscard]] std::size_t open_connections() const noexcept;
  [[nodiscard]] std::uint64_t served() const noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stella::daemon
