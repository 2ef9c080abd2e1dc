// Process and pipe helpers of the tests on Windows: CreateProcess, anonymous pipes.
//
// The header's API is the POSIX one; here:
// - a Child is a CreateProcess'd process; kill(signal) is TerminateProcess with exit
//   code 128 + signal, so wait() reports what a POSIX test expects of a killed child;
// - a pipe "fd" is the value of an inheritable HANDLE (handle values fit in 32 bits and
//   an inherited handle keeps its value in the child), so a child gets it as an argument
//   exactly as on POSIX, and signal_ready() writes to it.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace stella::test {

namespace {

// Child keeps only a pid (the header is shared with POSIX): the process handles live here.
std::mutex g_children_mutex;
std::map<pid_t, HANDLE> g_children;

HANDLE child_handle(pid_t pid) {
  std::lock_guard lock(g_children_mutex);
  auto it = g_children.find(pid);
  return it == g_children.end() ? nullptr : it->second;
}

void forget_child(pid_t pid) {
  std::lock_guard lock(g_children_mutex);
  auto it = g_children.find(pid);
  if (it != g_children.end()) {
    ::CloseHandle(it->second);
    g_children.erase(it);
  }
}

HANDLE to_handle(int fd) { return reinterpret_cast<HANDLE>(static_cast<std::intptr_t>(fd)); }
int to_fd(HANDLE h) { return static_cast<int>(reinterpret_cast<std::intptr_t>(h)); }

// Quoting for CommandLineToArgvW / the CRT's argv parser.
std::string quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\"") == std::string::npos) return arg;
  std::string out = "\"";
  std::size_t backslashes = 0;
  for (char c : arg) {
    if (c == '\\') {
      ++backslashes;
    } else if (c == '"') {
      out.append(backslashes * 2 + 1, '\\');
      out += '"';
      backslashes = 0;
    } else {
      out.append(backslashes, '\\');
      out += c;
      backslashes = 0;
    }
  }
  out.append(backslashes * 2, '\\');
  out += '"';
  return out;
}

void make_pipe(int fds[2], bool inherit_read, bool inherit_write) {
  SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE r = nullptr, w = nullptr;
  if (::CreatePipe(&r, &w, &sa, 0) == 0) throw std::runtime_error("CreatePipe failed");
  if (!inherit_read) ::SetHandleInformation(r, HANDLE_FLAG_INHERIT, 0);
  if (!inherit_write) ::SetHandleInformation(w, HANDLE_FLAG_INHERIT, 0);
  fds[0] = to_fd(r);
  fds[1] = to_fd(w);
}

void close_fd(int& fd) {
  if (fd != -1) ::CloseHandle(to_handle(fd));
  fd = -1;
}

}  // namespace

Child::Child(const std::string& program, const std::vector<std::string>& args, const std::string& stdout_file) {
  std::string cmd = quote(program);
  for (const auto& a : args) cmd += " " + quote(a);
  STARTUPINFOA si{};
  si.cb = sizeof si;
  HANDLE out = INVALID_HANDLE_VALUE;
  if (!stdout_file.empty()) {
    SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    out = ::CreateFileA(stdout_file.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, CREATE_ALWAYS,
                        FILE_ATTRIBUTE_NORMAL, nullptr);
    if (out == INVALID_HANDLE_VALUE) throw std::runtime_error("cannot create " + stdout_file);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
  }
  PROCESS_INFORMATION pi{};
  // bInheritHandles: the child gets the inheritable pipe ends (ReadyPipe, GoPipe).
  const BOOL ok = ::CreateProcessA(program.c_str(), cmd.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
  const DWORD err = ::GetLastError();
  if (out != INVALID_HANDLE_VALUE) ::CloseHandle(out);
  if (ok == 0) throw std::runtime_error("CreateProcess(" + program + ") failed: error " + std::to_string(err));
  ::CloseHandle(pi.hThread);
  pid_ = static_cast<pid_t>(pi.dwProcessId);
  std::lock_guard lock(g_children_mutex);
  g_children[pid_] = pi.hProcess;
}

Child::Child(Child&& other) noexcept : pid_(other.pid_), status_(other.status_) { other.pid_ = -1; }

Child::~Child() {
  if (pid_ > 0) {
    if (HANDLE h = child_handle(pid_); h != nullptr && !status_) {
      ::TerminateProcess(h, 128 + 9);
      ::WaitForSingleObject(h, INFINITE);
    }
    forget_child(pid_);
  }
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  HANDLE h = child_handle(pid_);
  if (h == nullptr) return std::nullopt;
  const auto ms = static_cast<DWORD>(std::min<long long>(timeout.count(), INFINITE - 1));
  if (::WaitForSingleObject(h, ms) != WAIT_OBJECT_0) return std::nullopt;
  DWORD code = 0;
  ::GetExitCodeProcess(h, &code);
  status_ = static_cast<int>(code);
  return status_;
}

void Child::kill(int signal) {
  if (pid_ <= 0 || status_) return;
  if (HANDLE h = child_handle(pid_); h != nullptr) ::TerminateProcess(h, static_cast<UINT>(128 + signal));
}

bool Child::running() {
  if (status_) return false;
  return !wait(std::chrono::milliseconds(0)).has_value();
}

ReadyPipe::ReadyPipe() { make_pipe(fds_, false, true); }  // only the write end is inherited

ReadyPipe::~ReadyPipe() {
  close_fd(fds_[0]);
  close_fd(fds_[1]);
}

void ReadyPipe::close_write() { close_fd(fds_[1]); }

std::optional<std::string> ReadyPipe::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    DWORD available = 0;
    // Anonymous pipes have no overlapped reads: poll for data (tests only).
    if (::PeekNamedPipe(to_handle(fds_[0]), nullptr, 0, nullptr, &available, nullptr) == 0) return std::nullopt;  // EOF
    if (available == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      ::Sleep(1);
      continue;
    }
    char buf[256];
    DWORD n = 0;
    if (::ReadFile(to_handle(fds_[0]), buf, std::min<DWORD>(available, sizeof buf), &n, nullptr) == 0 || n == 0) {
      return std::nullopt;
    }
    buffer_.append(buf, n);
  }
}

std::string temp_path(const std::string& tag) {
  static std::atomic<int> counter{0};
  char dir[MAX_PATH + 1] = {};
  ::GetTempPathA(sizeof dir, dir);
  std::string path = dir;
  path.append("stella-test-")
      .append(std::to_string(::GetCurrentProcessId()))
      .append("-")
      .append(std::to_string(counter.fetch_add(1)))
      .append("-")
      .append(tag);
  return path;
}

GoPipe::GoPipe() { make_pipe(fds_, true, false); }  // children hold only the read end

GoPipe::~GoPipe() {
  close_fd(fds_[0]);
  close_fd(fds_[1]);
}

void GoPipe::release() { close_fd(fds_[1]); }

void signal_ready(int fd, const std::string& line) {
  const std::string l = line + "\n";
  DWORD written = 0;
  ::WriteFile(to_handle(fd), l.data(), static_cast<DWORD>(l.size()), &written, nullptr);
}

std::chrono::nanoseconds process_cpu_time(pid_t pid) {
  HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) return std::chrono::nanoseconds(-1);
  FILETIME created{}, exited{}, kernel{}, user{};
  const BOOL ok = ::GetProcessTimes(h, &created, &exited, &kernel, &user);
  ::CloseHandle(h);
  if (ok == 0) return std::chrono::nanoseconds(-1);
  auto ticks = [](FILETIME f) { return (static_cast<std::uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime; };
  return std::chrono::nanoseconds((ticks(kernel) + ticks(user)) * 100);  // 100 ns units
}

}  // namespace stella::test
