// Where `stellad status --config FILE` finds the daemon's socket, also when FILE has errors
// elsewhere: a typo in a segment must not make a healthy daemon look unreachable.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace stella::daemon {

struct ConfigSocket {
  /// The socket the daemon serves when it runs on this file; nullopt when the file does not
  /// say it reliably (unreadable, not TOML, daemon.socket itself wrong or possibly misspelt).
  std::optional<std::filesystem::path> socket;
  /// Every problem of the file, as file:line:column lines (empty when it is valid).
  std::vector<std::string> problems;
  /// Why `socket` is nullopt.
  std::string why;
};

[[nodiscard]] ConfigSocket socket_from_config(const std::filesystem::path& path);

}  // namespace stella::daemon
