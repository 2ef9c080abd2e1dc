// stellad as a Windows service. The SCM starts `"<stellad.exe>" service run --config FILE`
// (the command line install() registers); run() hands the process to the Service Control
// Manager (StartServiceCtrlDispatcher), whose ServiceMain runs stellad's Daemon and
// reports SERVICE_START_PENDING, then SERVICE_RUNNING once the daemon is ready (every
// segment exists, status is served), and on SERVICE_CONTROL_STOP or _SHUTDOWN
// SERVICE_STOP_PENDING (with checkpoints and wait hints) and SERVICE_STOPPED.
//
// Every function prints what went wrong to stderr and returns a process exit status
// (0 done, 1 failed), as the `stellad service` subcommands do.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "stella/daemon/daemon.hpp"

namespace stella::windows_service {

inline constexpr const char* kDefaultServiceName = "stellad";

enum class StartType { automatic, on_demand };

/// CreateService for this executable with `config` (made absolute). Needs administrator
/// rights (SC_MANAGER_CREATE_SERVICE). The service runs as LocalSystem.
int install(const std::string& name, const std::filesystem::path& config, StartType start = StartType::automatic);
/// Stops the service if it runs, then DeleteService.
int uninstall(const std::string& name);
/// StartService, then waits (up to `timeout`) until it is SERVICE_RUNNING.
int start(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(30));
/// ControlService(SERVICE_CONTROL_STOP), then waits (up to `timeout`) until SERVICE_STOPPED.
int stop(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(30));
/// Runs as the service `name` (from the SCM only: it fails at once with a message when
/// started from a console). Returns when the service has stopped.
int run(const std::string& name, daemon::DaemonOptions options);

/// The service's current state, e.g. "running", "stopped", or "not installed".
[[nodiscard]] std::string state(const std::string& name);

}  // namespace stella::windows_service
