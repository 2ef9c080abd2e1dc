#include "stella/windows_service/service.hpp"

#include <spdlog/spdlog.h>
#include <windows.h>

#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>

namespace stella::windows_service {

namespace {

using Clock = std::chrono::steady_clock;

std::wstring wide(const std::string& s) { return std::filesystem::path(s).wstring(); }

std::string win_error(DWORD code) { return std::system_category().message(static_cast<int>(code)); }

int fail(const std::string& what, DWORD code) {
  std::fprintf(stderr, "stellad service: %s: %s (error %lu)\n", what.c_str(), win_error(code).c_str(),
               static_cast<unsigned long>(code));
  return 1;
}

class ScHandle {
 public:
  explicit ScHandle(SC_HANDLE h) : h_(h) {}
  ~ScHandle() {
    if (h_ != nullptr) ::CloseServiceHandle(h_);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  [[nodiscard]] SC_HANDLE get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

const char* state_name(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED: return "stopped";
    case SERVICE_START_PENDING: return "start pending";
    case SERVICE_STOP_PENDING: return "stop pending";
    case SERVICE_RUNNING: return "running";
    case SERVICE_CONTINUE_PENDING: return "continue pending";
    case SERVICE_PAUSE_PENDING: return "pause pending";
    case SERVICE_PAUSED: return "paused";
  }
  return "unknown";
}

// Polls until the service reaches `wanted` or leaves `pending`; false on timeout or error.
bool wait_for_state(SC_HANDLE service, DWORD wanted, DWORD pending, Clock::time_point deadline, DWORD& last) {
  for (;;) {
    SERVICE_STATUS s{};
    if (!::QueryServiceStatus(service, &s)) return false;
    last = s.dwCurrentState;
    if (s.dwCurrentState == wanted) return true;
    if (s.dwCurrentState != pending && s.dwCurrentState != SERVICE_START_PENDING &&
        s.dwCurrentState != SERVICE_STOP_PENDING) {
      return false;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// ---- The service process: ServiceMain and the control handler ------------------------

constexpr DWORD kStartWaitHint = 30000;  // ms: segments are created before RUNNING
constexpr DWORD kStopWaitHint = 15000;   // ms: the reaper and the status pipe stop first

struct ServiceState {
  std::wstring name;
  daemon::DaemonOptions options;
  SERVICE_STATUS_HANDLE handle = nullptr;
  std::mutex status_mutex;  // guards status (SetServiceStatus from two threads)
  SERVICE_STATUS status{};
  std::mutex daemon_mutex;  // guards daemon and stop_requested
  daemon::Daemon* daemon = nullptr;
  bool stop_requested = false;
};

ServiceState g_service;

void report(DWORD state, DWORD wait_hint, DWORD exit_code = NO_ERROR, DWORD specific = 0) {
  std::lock_guard lock(g_service.status_mutex);
  SERVICE_STATUS& s = g_service.status;
  s.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  s.dwCurrentState = state;
  s.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  s.dwWin32ExitCode = specific != 0 ? ERROR_SERVICE_SPECIFIC_ERROR : exit_code;
  s.dwServiceSpecificExitCode = specific;
  s.dwWaitHint = wait_hint;
  // A pending state advances its checkpoint at every report; a final state has none.
  s.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : s.dwCheckPoint + 1;
  ::SetServiceStatus(g_service.handle, &s);
}

DWORD WINAPI on_control(DWORD control, DWORD, LPVOID, LPVOID) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN: {
      report(SERVICE_STOP_PENDING, kStopWaitHint);
      std::lock_guard lock(g_service.daemon_mutex);
      g_service.stop_requested = true;
      if (g_service.daemon != nullptr) g_service.daemon->request_stop();
      return NO_ERROR;
    }
    case SERVICE_CONTROL_INTERROGATE: return NO_ERROR;
    default: return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI service_main(DWORD, LPWSTR*) {
  g_service.handle = ::RegisterServiceCtrlHandlerExW(g_service.name.c_str(), on_control, nullptr);
  if (g_service.handle == nullptr) return;
  report(SERVICE_START_PENDING, kStartWaitHint);
  int status = 1;
  try {
    daemon::DaemonOptions options = g_service.options;
    options.on_ready = [] { report(SERVICE_RUNNING, 0); };
    daemon::Daemon d(std::move(options));
    {
      std::lock_guard lock(g_service.daemon_mutex);
      g_service.daemon = &d;
      if (g_service.stop_requested) d.request_stop();
    }
    status = d.run();
    std::lock_guard lock(g_service.daemon_mutex);
    g_service.daemon = nullptr;
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(g_service.daemon_mutex);
      g_service.daemon = nullptr;
    }
    spdlog::error("service {}: {}", std::filesystem::path(g_service.name).string(), e.what());
    status = 1;
  }
  report(SERVICE_STOPPED, 0, NO_ERROR, static_cast<DWORD>(status));
}

}  // namespace

int install(const std::string& name, const std::filesystem::path& config, StartType start) {
  std::wstring exe(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = ::GetModuleFileNameW(nullptr, exe.data(), static_cast<DWORD>(exe.size()));
    if (n == 0) return fail("GetModuleFileName", ::GetLastError());
    if (n < exe.size()) {
      exe.resize(n);
      break;
    }
    exe.resize(exe.size() * 2);
  }
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(config, ec);
  std::wstring command = L"\"" + exe + L"\" service run --config \"" + (ec ? config : absolute).wstring() + L"\"";
  if (name != kDefaultServiceName) command += L" --name \"" + wide(name) + L"\"";

  const ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
  if (!scm) return fail("cannot open the Service Control Manager (administrator rights?)", ::GetLastError());
  const std::wstring wname = wide(name);
  const ScHandle service(::CreateServiceW(
      scm.get(), wname.c_str(), L"Stella broker daemon (stellad)", SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
      start == StartType::automatic ? SERVICE_AUTO_START : SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
      command.c_str(), nullptr, nullptr, nullptr, nullptr /* LocalSystem */, nullptr));
  if (!service) return fail("cannot create the service " + name, ::GetLastError());
  std::wstring text = L"Owns the Stella shared-memory segments of its config and reports their health.";
  SERVICE_DESCRIPTIONW description{text.data()};
  (void)::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &description);
  std::printf("installed the service %s: %s\n", name.c_str(), std::filesystem::path(command).string().c_str());
  return 0;
}

int uninstall(const std::string& name) {
  const ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return fail("cannot open the Service Control Manager", ::GetLastError());
  const std::wstring wname = wide(name);
  const ScHandle service(::OpenServiceW(scm.get(), wname.c_str(), DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) return fail("cannot open the service " + name, ::GetLastError());
  SERVICE_STATUS s{};
  if (::QueryServiceStatus(service.get(), &s) && s.dwCurrentState != SERVICE_STOPPED) {
    (void)::ControlService(service.get(), SERVICE_CONTROL_STOP, &s);
    DWORD last = 0;
    if (!wait_for_state(service.get(), SERVICE_STOPPED, SERVICE_STOP_PENDING, Clock::now() + std::chrono::seconds(30),
                        last)) {
      std::fprintf(stderr, "stellad service: %s did not stop (%s); deleting it anyway\n", name.c_str(),
                   state_name(last));
    }
  }
  if (!::DeleteService(service.get())) return fail("cannot delete the service " + name, ::GetLastError());
  std::printf("uninstalled the service %s\n", name.c_str());
  return 0;
}

int start(const std::string& name, std::chrono::milliseconds timeout) {
  const ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return fail("cannot open the Service Control Manager", ::GetLastError());
  const std::wstring wname = wide(name);
  const ScHandle service(::OpenServiceW(scm.get(), wname.c_str(), SERVICE_START | SERVICE_QUERY_STATUS));
  if (!service) return fail("cannot open the service " + name, ::GetLastError());
  if (!::StartServiceW(service.get(), 0, nullptr)) return fail("cannot start the service " + name, ::GetLastError());
  DWORD last = 0;
  if (!wait_for_state(service.get(), SERVICE_RUNNING, SERVICE_START_PENDING, Clock::now() + timeout, last)) {
    std::fprintf(stderr, "stellad service: %s did not reach running (%s)\n", name.c_str(), state_name(last));
    return 1;
  }
  std::printf("the service %s is running\n", name.c_str());
  return 0;
}

int stop(const std::string& name, std::chrono::milliseconds timeout) {
  const ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return fail("cannot open the Service Control Manager", ::GetLastError());
  const std::wstring wname = wide(name);
  const ScHandle service(::OpenServiceW(scm.get(), wname.c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) return fail("cannot open the service " + name, ::GetLastError());
  SERVICE_STATUS s{};
  if (!::ControlService(service.get(), SERVICE_CONTROL_STOP, &s)) {
    return fail("cannot stop the service " + name, ::GetLastError());
  }
  DWORD last = 0;
  if (!wait_for_state(service.get(), SERVICE_STOPPED, SERVICE_STOP_PENDING, Clock::now() + timeout, last)) {
    std::fprintf(stderr, "stellad service: %s did not stop (%s)\n", name.c_str(), state_name(last));
    return 1;
  }
  std::printf("the service %s is stopped\n", name.c_str());
  return 0;
}

std::string state(const std::string& name) {
  const ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return "unknown (no Service Control Manager: " + win_error(::GetLastError()) + ")";
  const std::wstring wname = wide(name);
  const ScHandle service(::OpenServiceW(scm.get(), wname.c_str(), SERVICE_QUERY_STATUS));
  if (!service) {
    const DWORD err = ::GetLastError();
    return err == ERROR_SERVICE_DOES_NOT_EXIST ? "not installed" : "unknown (" + win_error(err) + ")";
  }
  SERVICE_STATUS s{};
  if (!::QueryServiceStatus(service.get(), &s)) return "unknown (" + win_error(::GetLastError()) + ")";
  return state_name(s.dwCurrentState);
}

int run(const std::string& name, daemon::DaemonOptions options) {
  g_service.name = wide(name);
  g_service.options = std::move(options);
  SERVICE_TABLE_ENTRYW table[] = {{g_service.name.data(), service_main}, {nullptr, nullptr}};
  if (!::StartServiceCtrlDispatcherW(table)) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      std::fprintf(stderr,
                   "stellad service run: not started by the Service Control Manager; use `stellad service start` "
                   "(or `stellad run` in a console)\n");
      return 1;
    }
    return fail("StartServiceCtrlDispatcher", err);
  }
  const DWORD code = g_service.status.dwServiceSpecificExitCode;
  return static_cast<int>(code);
}

}  // namespace stella::windows_service
