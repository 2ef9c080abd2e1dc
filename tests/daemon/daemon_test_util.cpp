#include "daemon_test_util.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace stella::test {

Proc::Proc(const std::string& program, const std::vector<std::string>& args, const std::string& out_file,
           const std::string& err_file, const std::map<std::string, std::string>& env,
           std::optional<std::pair<std::uint64_t, std::uint64_t>> open_files) {
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Built before fork: the child only calls async-signal-safe functions until exec.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (env.count(key) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (open_files) {
      const rlimit limit{static_cast<rlim_t>(open_files->first), static_cast<rlim_t>(open_files->second)};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(126);
    }
    if (!out_file.empty()) {
      const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) ::dup2(fd, 1);
    }
    if (!err_file.empty()) {
      const int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) ::dup2(fd, 2);
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
}

Proc::~Proc() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

std::optional<int> Proc::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const bool done = eventually([&] { return !running(); }, timeout);
  if (!done) return std::nullopt;
  return status_;
}

void Proc::kill(int signal) {
  if (pid_ > 0 && !status_) ::kill(pid_, signal);
}

bool Proc::running() {
  if (status_) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

CommandResult run_command(const std::string& program, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout) {
  const std::string out = temp_path("cmd-out"), err = temp_path("cmd-err");
  CommandResult r;
  {
    Proc p(program, args, out, err);
    r.exit_code = p.wait(timeout).value_or(-1);
  }
  r.out = read_file(out);
  r.err = read_file(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(1);
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Polling an external process's state: there is no event to wait on.
    std::this_thread::sleep_for(delay);
    if (delay < std::chrono::milliseconds(20)) delay *= 2;
  }
}

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("stella-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

namespace {
std::string config_text(const std::string& socket, const std::string& daemon_keys, const std::string& segments) {
  return "version = 1\n\n[daemon]\nsocket = \"" + socket + "\"\n" + daemon_keys + "\n" + segments;
}
}  // namespace

Stellad::Stellad(const std::string& tag, const std::string& daemon_keys, const std::string& segments,
                 std::map<std::string, std::string> env)
    : dir_(tag), env_(std::move(env)) {
  socket_ = dir_.file("stellad.sock");
  config_ = dir_.file("stella.toml");
  log_ = dir_.file("stellad.log");
  write_file(config_, config_text(socket_, daemon_keys, segments));
}

Stellad::~Stellad() {
  if (proc_ && proc_->running()) stop();
}

void Stellad::launch() {
  ++launches_;
  proc_ = std::make_unique<Proc>(STELLAD, std::vector<std::string>{"run", "--config", config_}, "", log_, env_,
                                 open_files_);
}

bool Stellad::wait_ready(std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        if (!proc_->running()) return true;  // reported below
        const auto r = query(daemon::protocol::Command::ping);
        return r.response && r.response->ok;
      },
      timeout) &&
         proc_->running();
}

void Stellad::start() {
  launch();
  const bool ready = wait_ready();
  INFO("stellad log:\n" << log());
  REQUIRE_MESSAGE(ready, "stellad did not become ready");
}

std::optional<int> Stellad::stop(int signal) {
  if (!proc_) return std::nullopt;
  proc_->kill(signal);
  return proc_->wait(std::chrono::seconds(30));
}

void Stellad::rewrite_config(const std::string& daemon_keys, const std::string& segments) {
  // Written to a new file and renamed: stellad never reads half a config.
  const std::string tmp = config_ + ".new";
  write_file(tmp, config_text(socket_, daemon_keys, segments));
  std::filesystem::rename(tmp, config_);
}

daemon::QueryResult Stellad::query(daemon::protocol::Command c) const {
  return daemon::query(socket_, c, std::chrono::seconds(10));
}

daemon::protocol::StatusReport Stellad::status() const {
  const auto r = query();
  INFO("error: " << r.error << "\nstellad log:\n" << log());
  REQUIRE(r.response);
  REQUIRE(r.response->status);
  return *r.response->status;
}

std::optional<daemon::protocol::SegmentReport> Stellad::segment(const std::string& name) const {
  for (const auto& s : status().segments) {
    if (s.name == name) return s;
  }
  return std::nullopt;
}

std::string Stellad::log() const { return read_file(log_); }

bool Stellad::log_contains(const std::string& text, std::chrono::milliseconds timeout) const {
  return eventually([&] { return log().find(text) != std::string::npos; }, timeout);
}

std::string ring_segment(const std::string& name, const std::string& capacity, const std::string& mode,
                         const std::string& extra) {
  return "[[segment]]\nname = \"" + name + "\"\nkind = \"ring\"\ncapacity = \"" + capacity + "\"\nmode = \"" + mode +
         "\"\n" + extra + "\n";
}

std::string blob_segment(const std::string& name, const std::string& capacity, const std::string& extra) {
  return "[[segment]]\nname = \"" + name + "\"\nkind = \"blob\"\ncapacity = \"" + capacity + "\"\n" + extra + "\n";
}

int file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

std::string shm_path(const std::string& name) { return "/dev/shm/stella." + name; }

}  // namespace stella::test
