// stellad: a thin main. Parse the command line, then hand over to the Daemon (run), the
// status client (status) or the config checker (check-config).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "stella/config/config.hpp"
#include "stella/config/enum_names.hpp"
#include "stella/daemon/command_extension.hpp"
#include "stella/daemon/daemon.hpp"
#include "stella/daemon/status_client.hpp"
#include "stella/version.hpp"
#include "config_socket.hpp"
#include "platform/commands.hpp"

namespace {

using namespace stella;

int run_command(const std::string& config_path, const std::string& socket, const std::string& level) {
  daemon::DaemonOptions options;
  options.config_path = config_path;
  if (!socket.empty()) options.socket = socket;
  if (!level.empty()) options.log_level = config::enum_from_name<config::LogLevel>(level);
  try {
    daemon::Daemon d(std::move(options));
    return d.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stellad: error: %s\n", e.what());
    return 1;
  }
}

int status_command(std::string socket, const std::string& config_path, bool json, int timeout_ms) {
  namespace proto = daemon::protocol;
  if (socket.empty() && !config_path.empty()) {
    // A config with errors elsewhere still names the socket: ask the daemon anyway.
    const daemon::ConfigSocket found = daemon::socket_from_config(config_path);
    for (const auto& p : found.problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (!found.socket) {
      std::fprintf(stderr, "stellad status: cannot tell the daemon's socket from %s: %s (give --socket)\n",
                   config_path.c_str(), found.why.c_str());
      return proto::kExitNoSocket;
    }
    if (!found.problems.empty()) {
      std::fprintf(stderr, "stellad status: %s has %zu problem(s) (a reload of it would be refused); asking the "
                   "daemon on %s\n", config_path.c_str(), found.problems.size(), found.socket->string().c_str());
    }
    socket = found.socket->string();
  }
  if (socket.empty()) socket = config::DaemonConfig{}.socket.string();
  const daemon::QueryResult r = daemon::query(socket, proto::Command::status, std::chrono::milliseconds(timeout_ms));
  if (!r.response) {
    std::fprintf(stderr, "stellad status: unreachable: %s\n", r.error.c_str());
    return proto::kExitUnreachable;
  }
  if (!r.response->ok || !r.response->status) {
    std::fprintf(stderr, "stellad status: the daemon refused the request: %s\n",
                 r.response->error ? r.response->error->message.c_str() : "no status in the response");
    return proto::kExitUnreachable;
  }
  const auto& report = *r.response->status;
  if (json) {
    std::cout << proto::status_json(report, true) << "\n";
  } else {
    std::cout << proto::render_table(report);
  }
  return proto::exit_status(report.health);
}

int check_config_command(const std::string& path) {
  const config::CheckResult checked = config::check_path(path);
  if (!checked.ok()) {
    for (const auto& p : checked.problems) std::fprintf(stderr, "%s\n", p.to_string().c_str());
    std::fprintf(stderr, "%s: %zu problem(s)\n", path.c_str(), checked.problems.size());
    return 1;
  }
  std::cout << config::summary(*checked.config);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stellad: Stella's broker daemon. It owns the shared-memory segments a TOML config declares, "
               "repairs what crashed processes leave behind, and reports health on a local socket."};
  app.set_version_flag("--version", "stellad " + std::string(stella::version()));
  app.require_subcommand(1);

  std::string config_path, socket, level;
  auto* run = app.add_subcommand("run", "Create or adopt the configured segments, reap, serve status (foreground)");
  run->add_option("-c,--config", config_path, "The TOML config file")->required();
  run->add_option("--socket", socket, "Serve status on this socket instead of daemon.socket");
  run->add_option("--log-level", level, "Override daemon.log_level")
      ->check(CLI::IsMember(stella::config::enum_name_list<stella::config::LogLevel>()));

  std::string status_socket, status_config;
  bool json = false;
  int timeout_ms = 5000;
  auto* status = app.add_subcommand("status", "Ask the running stellad for its status (exit 0 healthy, 1 degraded, "
                                              "2 unreachable, 3 no socket in --config FILE)");
  status->add_option("--socket", status_socket, "The daemon's socket (default: /run/stella/stellad.sock)");
  status->add_option("-c,--config", status_config,
                     "Take the socket from this config file (also when the file has errors elsewhere)");
  status->add_flag("--json", json, "Print JSON for tools instead of a table");
  status->add_option("--timeout-ms", timeout_ms, "Give up after this many milliseconds")->check(CLI::PositiveNumber);

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a config: every problem as file:line:column (exit 1), "
                                                   "or a summary (exit 0)");
  check->add_option("file", check_path, "The TOML config file")->required();

  // POSIX: SIGPIPE ignored; Windows: the `stop` subcommand (platform/commands.hpp).
  stella::daemon::sys::PlatformCommands platform_commands(app);
  // Subcommands of parts linked into stellad above the daemon (Windows: windows-service/'s
  // `service ...`); none on POSIX.
  auto extensions = stella::daemon::make_command_extensions();
  for (const auto& extension : extensions) extension->add_to(app);

  CLI11_PARSE(app, argc, argv);

  if (const std::optional<int> handled = platform_commands.run()) return *handled;
  for (const auto& extension : extensions) {
    if (const std::optional<int> handled = extension->run()) return *handled;
  }

  if (run->parsed()) return run_command(config_path, socket, level);
  if (status->parsed()) return status_command(status_socket, status_config, json, timeout_ms);
  if (check->parsed()) return check_config_command(check_path);
  return 2;
}
