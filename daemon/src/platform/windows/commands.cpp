// Windows subcommands of stellad:
//   stop [--socket S | --config F]      asks the stellad serving S to stop (the named event of
//                                       stop_event.hpp; its pid comes from its status) and
//                                       waits until it has exited
// (`service ...`, the Service Control Manager wrapper, is windows-service/'s: it registers
// its subcommands through stella/daemon/command_extension.hpp.)
#include <windows.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "platform/commands.hpp"
#include "stella/config/config.hpp"
#include "stella/daemon/status_client.hpp"
#include "stop_event.hpp"

namespace stella::daemon::sys {

struct PlatformCommands::Impl {
  CLI::App* stop = nullptr;
  std::string stop_socket, stop_config;
  int stop_timeout_ms = 15000;

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

}

PlatformCommands::~PlatformCommands() = default;

std::optional<int> PlatformCommands::run() {
  Impl& i = *impl_;
  if (i.stop->parsed()) return i.stop_command();
  return std::nullopt;
}

}  // namespace stella::daemon::sys
