// Windows subcommands of stellad:
//   stop [--socket S | --config F]      asks the stellad serving S to stop (the named event of
//                                       stop_event.hpp; its pid comes from its status) and
//                                       waits until it has exited
//   service install --config F [--name N] [--manual] | uninstall | start | stop | status | run
//                                       the Service Control Manager wrapper (windows-service/)
#include <windows.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "platform/commands.hpp"
#include "stella/config/config.hpp"
#include "stella/daemon/status_client.hpp"
#include "stella/windows_service/service.hpp"
#include "stop_event.hpp"

namespace stella::daemon::sys {

namespace service = stella::windows_service;

struct PlatformCommands::Impl {
  CLI::App* stop = nullptr;
  std::string stop_socket, stop_config;
  int stop_timeout_ms = 15000;

  CLI::App* service = nullptr;
  CLI::App* install = nullptr;
  CLI::App* uninstall = nullptr;
  CLI::App* start = nullptr;
  CLI::App* service_stop = nullptr;
  CLI::App* status = nullptr;
  CLI::App* run = nullptr;
  std::string name = service::kDefaultServiceName;
  std::string config_path;
  bool manual = false;

  int stop_command() const {
    std::string socket = stop_socket;
    if (socket.empty() && !stop_config.empty()) {
      const config::CheckResult checked = config::check_path(stop_config);
      if (!checked.ok()) {
        for (const auto& p : checked.problems) std::fprintf(stderr, "%s\n", p.to_string().c_str());
        return 2;
      }
      socket = checked.config->daemon.socket.string();
    }
    if (socket.empty()) socket = config::DaemonConfig{}.socket.string();
    const auto timeout = std::chrono::milliseconds(stop_timeout_ms);
    const QueryResult r = query(socket, protocol::Command::status, timeout);
    if (!r.response || !r.response->status) {
      std::fprintf(stderr, "stellad stop: unreachable: %s\n", r.error.c_str());
      return 2;
    }
    const auto pid = static_cast<DWORD>(r.response->status->daemon.pid);
    HANDLE process = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
    HANDLE event = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, stop_event_name(pid).c_str());
    if (event == nullptr || !::SetEvent(event)) {
      std::fprintf(stderr, "stellad stop: cannot signal stellad (pid %lu): error %lu (another session or user?)\n",
                   static_cast<unsigned long>(pid), static_cast<unsigned long>(::GetLastError()));
      if (event != nullptr) ::CloseHandle(event);
      if (process != nullptr) ::CloseHandle(process);
      return 1;
    }
    ::CloseHandle(event);
    const bool exited = process == nullptr || ::WaitForSingleObject(process, static_cast<DWORD>(stop_timeout_ms)) == WAIT_OBJECT_0;
    if (process != nullptr) ::CloseHandle(process);
    if (!exited) {
      std::fprintf(stderr, "stellad stop: stellad (pid %lu) did not exit within %d ms\n",
                   static_cast<unsigned long>(pid), stop_timeout_ms);
      return 1;
    }
    std::printf("stellad (pid %lu) stopped\n", static_cast<unsigned long>(pid));
    return 0;
  }
};

PlatformCommands::PlatformCommands(CLI::App& app) : impl_(std::make_unique<Impl>()) {
  Impl& i = *impl_;
  i.stop = app.add_subcommand("stop", "Ask the running stellad to stop (Windows' SIGTERM) and wait until it exits");
  i.stop->add_option("--socket", i.stop_socket, "The daemon's socket (its named pipe is derived from it)");
  i.stop->add_option("-c,--config", i.stop_config, "Take the socket from this config file");
  i.stop->add_option("--timeout-ms", i.stop_timeout_ms, "Give up after this many milliseconds")
      ->check(CLI::PositiveNumber);

  i.service = app.add_subcommand("service", "stellad as a Windows service (Service Control Manager)");
  i.service->require_subcommand(1);
  i.service->add_option("--name", i.name, "The service name")->capture_default_str();
  i.install = i.service->add_subcommand("install", "Register the service: this stellad.exe, `service run --config FILE`");
  i.install->add_option("-c,--config", i.config_path, "The TOML config file")->required();
  i.install->add_flag("--manual", i.manual, "Start on demand instead of at boot");
  i.uninstall = i.service->add_subcommand("uninstall", "Stop the service if it runs, then delete it");
  i.start = i.service->add_subcommand("start", "Start the service and wait until it runs");
  i.service_stop = i.service->add_subcommand("stop", "Stop the service and wait until it has stopped");
  i.status = i.service->add_subcommand("status", "Print the service's state");
  i.run = i.service->add_subcommand("run", "Run as the service (the command line the SCM starts)");
  i.run->add_option("-c,--config", i.config_path, "The TOML config file")->required();
  for (CLI::App* sub : {i.install, i.uninstall, i.start, i.service_stop, i.status, i.run}) {
    sub->add_option("--name", i.name, "The service name")->capture_default_str();
  }
}

PlatformCommands::~PlatformCommands() = default;

std::optional<int> PlatformCommands::run() {
  Impl& i = *impl_;
  if (i.stop->parsed()) return i.stop_command();
  if (!i.service->parsed()) return std::nullopt;
  if (i.install->parsed()) {
    return service::install(i.name, i.config_path, i.manual ? service::StartType::on_demand : service::StartType::automatic);
  }
  if (i.uninstall->parsed()) return service::uninstall(i.name);
  if (i.start->parsed()) return service::start(i.name);
  if (i.service_stop->parsed()) return service::stop(i.name);
  if (i.status->parsed()) {
    std::cout << service::state(i.name) << "\n";
    return 0;
  }
  if (i.run->parsed()) {
    DaemonOptions options;
    options.config_path = i.config_path;
    return service::run(i.name, std::move(options));
  }
  return 2;
}

}  // namespace stella::daemon::sys
