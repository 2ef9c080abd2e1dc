// What stellad says, when it runs: which segments it owns (`stella rm` refuses those unless
// --force, `stella ls` marks them). Asked over stellad's status socket with the protocol
// client that `stellad status` uses; the tool works the same when no stellad answers.
//
// Ownership rule (README, "The stella command"): a segment is stellad's when
//   - a stellad answering on the socket reports it as "live" or "draining" (a segment it
//     "refused" is left to you, as stellad itself leaves it untouched), or
//   - the config file given with --config declares it (stellad adopts it when it starts).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace stella::tools {

struct DaemonLink {
  std::filesystem::path socket;           // where we asked
  bool reachable = false;
  std::string error;                      // why not reachable
  std::set<std::string> owned;            // live or draining segments of the running stellad
  std::set<std::string> refused;          // segments it refused to adopt
  std::set<std::string> configured;       // declared by --config
  [[nodiscard]] bool owns(const std::string& name) const { return owned.count(name) + configured.count(name) > 0; }
};

/// The socket to ask: --socket, else --config's daemon.socket, else $STELLA_SOCKET, else the
/// default /run/stella/stellad.sock. Reads --config if given (throws std::runtime_error
/// listing its problems when it is not a valid config).
[[nodiscard]] DaemonLink ask_daemon(const std::optional<std::filesystem::path>& socket,
                                    const std::optional<std::filesystem::path>& config,
                                    std::chrono::milliseconds timeout);

}  // namespace stella::tools
