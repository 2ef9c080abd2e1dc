// HealthServer: the Unix-domain status socket, served with Asio on the caller's io_context.
//
// One request per connection (protocol.hpp). Each connection gets a deadline (the config's
// client_timeout) covering its request and, afresh, its response: a client that sends
// nothing, sends too slowly, never reads, or sends garbage is dropped when it expires or as
// soon as its bytes cannot be a request (more than kMaxRequestBytes without a newline),
// without affecting other connections. The reaper runs on its own thread, so no client,
// however hostile, delays it.
//
// Under pressure (docs/robustness.md "The status socket under pressure"):
// - at most max_connections() are open at once, sized at start() from the open-file limit
//   the process has (stellad raises its soft RLIMIT_NOFILE to the hard limit first); when
//   full, a new connection is still taken and the OLDEST one still waiting for its request
//   is dropped for it (a flood of idle connections cannot lock a well-behaved client out);
// - when accept fails for want of file descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) the
//   server stops accepting for kAcceptPause instead of retrying at once (no busy loop),
//   lowers its cap below the number of connections it could hold, and logs once per burst;
// - drops are logged once per burst (a warning with the count), never once per connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "stella/daemon/protocol.hpp"

namespace asio {
class io_context;
}

namespace stella::daemon {

class HealthServer {
 public:
  /// Never more connections than this, whatever the open-file limit (memory: ~2 KiB each).
  static constexpr std::size_t kMaxConnectionsCeiling = 16384;
  /// Never fewer than this, however low the open-file limit.
  static constexpr std::size_t kMinConnections = 16;
  /// How long accepting pauses after a failure for want of descriptors or memory.
  static constexpr std::chrono::milliseconds kAcceptPause{50};
  /// The cap where no open-file limit applies (Windows named pipes).
  static constexpr std::size_t kDefaultConnections = 1024;
  /// The connection cap for an open-file limit of `limit` descriptors (nullopt: no limit
  /// known): a quarter of the limit plus 64 stay for segments, bridges, logs and the like.
  [[nodiscard]] static constexpr std::size_t connection_cap(std::optional<std::uint64_t> limit) noexcept {
    if (!limit) return kDefaultConnections;
    const std::uint64_t reserve = *limit / 4 + 64;
    const std::uint64_t usable = *limit > reserve ? *limit - reserve : 0;
    return static_cast<std::size_t>(usable < kMinConnections         ? kMinConnections
                                    : usable > kMaxConnectionsCeiling ? kMaxConnectionsCeiling
                                                                      : usable);
  }
  /// After running out of descriptors, the lowered cap is restored once accepting has
  /// gone this long without failing.
  static constexpr std::chrono::seconds kCapRecovery{30};
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
  /// The connection cap in force (connection_cap() of the limit at start(), lowered after
  /// running out of descriptors below it).
  [[nodiscard]] std::size_t max_connections() const noexcept;
  [[nodiscard]] std::uint64_t served() const noexcept;
  /// Connections closed without an answer: deadline, bad request, or room for a newer one.
  [[nodiscard]] std::uint64_t dropped() const noexcept;
  /// Of those, the ones dropped to make room for a newer connection.
  [[nodiscard]] std::uint64_t evicted() const noexcept;
  /// Accept attempts that failed (EMFILE and the like); each burst is logged once.
  [[nodiscard]] std::uint64_t accept_failures() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stella::daemon
