#include "daemon_link.hpp"

#include <cstdlib>
#include <stdexcept>

#include "stella/config/config.hpp"
#include "stella/daemon/status_client.hpp"

namespace stella::tools {

DaemonLink ask_daemon(const std::optional<std::filesystem::path>& socket,
                      const std::optional<std::filesystem::path>& config, std::chrono::milliseconds timeout) {
  DaemonLink link;
  link.socket = config::DaemonConfig{}.socket;
  if (const char* env = std::getenv("STELLA_SOCKET"); env != nullptr && *env != '\0') link.socket = env;
  if (config) {
    config::CheckResult checked = config::check_path(*config);
    if (!checked.ok()) {
      std::string text = config->string() + " is not a valid config:";
      for (const config::Problem& p : checked.problems) text += "\n  " + p.to_string();
      throw std::runtime_error(text);
    }
    link.socket = checked.config->daemon.socket;
    for (const config::SegmentConfig& s : checked.config->segments) link.configured.insert(s.name);
  }
  if (socket) link.socket = *socket;

  const daemon::QueryResult q = daemon::query(link.socket, daemon::protocol::Command::status, timeout);
  if (!q.response || !q.response->ok || !q.response->status) {
    link.error = q.error.empty() ? "no status in the answer" : q.error;
    return link;
  }
  link.reachable = true;
  for (const daemon::protocol::SegmentReport& s : q.response->status->segments) {
    if (s.state == "refused") {
      link.refused.insert(s.name);
    } else {
      link.owned.insert(s.name);
    }
  }
  return link;
}

}  // namespace stella::tools
