#include "config_socket.hpp"

#include <toml++/toml.h>

#include "stella/config/config.hpp"

namespace stella::daemon {

ConfigSocket socket_from_config(const std::filesystem::path& path) {
  ConfigSocket out;
  const config::CheckResult checked = config::check_path(path);
  if (checked.ok()) {
    out.socket = checked.config->daemon.socket;
    return out;
  }
  bool about_socket = false;  // a problem with daemon.socket, or one that suggests it ("did you mean")
  for (const config::Problem& p : checked.problems) {
    out.problems.push_back(p.to_string());
    if (p.key == "daemon.socket" || p.message.find("\"socket\"") != std::string::npos) about_socket = true;
  }
  if (about_socket) {
    out.why = "its daemon.socket is not valid (or may be misspelt)";
    return out;
  }
  // Valid TOML whose problems lie elsewhere: the socket is what the file says, or the
  // default, exactly as the daemon would read it.
  toml::table table;
  try {
    table = toml::parse_file(path.string());
  } catch (const std::exception&) {
    out.why = "it cannot be read as TOML";
    return out;
  }
  const toml::node* daemon = table.get("daemon");
  if (daemon != nullptr && !daemon->is_table()) {
    out.why = "its [daemon] is not a table";
    return out;
  }
  const toml::node* socket = daemon != nullptr ? daemon->as_table()->get("socket") : nullptr;
  if (socket == nullptr) {
    out.socket = config::DaemonConfig{}.socket;
  } else if (const auto* text = socket->as_string()) {
    out.socket = std::filesystem::path(text->get());
  } else {
    out.why = "its daemon.socket is not a string";
  }
  return out;
}

}  // namespace stella::daemon
