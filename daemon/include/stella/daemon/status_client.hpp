// The client side of the health socket, used by `stellad status` and the tests. It links
// only the protocol, none of the daemon's modules.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "stella/daemon/protocol.hpp"

namespace stella::daemon {

struct QueryResult {
  /// The decoded response; nullopt when the daemon could not be reached or did not answer
  /// with a valid response in time (`error` says which).
  std::optional<protocol::Response> response;
  std::string error;
  /// The raw response bytes (without the final LF).
  std::string raw;
};

/// Connects to `socket`, sends `command`, reads the response until the daemon closes the
/// connection, all within `timeout`. Never throws for a network or protocol problem.
[[nodiscard]] QueryResult query(const std::filesystem::path& socket, protocol::Command command,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace stella::daemon
