// Process and pipe helpers of the tests on POSIX: fork/exec, pipes, /proc.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace stella::test {

Child::Child(const std::string& program, const std::vector<std::string>& args, const std::string& stdout_file) {
  std::vector<std::string> all;
  all.push_back(program);
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (!stdout_file.empty()) {
      const int fd = ::open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) ::dup2(fd, 1);
    }
    ::execv(program.c_str(), argv.data());
    std::fprintf(stderr, "exec %s failed: %s\n", program.c_str(), std::strerror(errno));
    ::_exit(127);
  }
}

Child::Child(Child&& other) noexcept : pid_(other.pid_), status_(other.status_) { other.pid_ = -1; }

Child::~Child() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::microseconds(100);
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Polling a child's exit status: there is no portable blocking wait with a timeout.
    std::this_thread::sleep_for(delay);
    if (delay < std::chrono::milliseconds(10)) delay *= 2;
  }
}

void Child::kill(int signal) {
  if (pid_ > 0 && !status_) ::kill(pid_, signal);
}

bool Child::running() {
  if (status_) return false;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

ReadyPipe::ReadyPipe() {
  if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  ::fcntl(fds_[0], F_SETFD, FD_CLOEXEC);  // only the write end is inherited
}

ReadyPipe::~ReadyPipe() {
  if (fds_[0] >= 0) ::close(fds_[0]);
  if (fds_[1] >= 0) ::close(fds_[1]);
}

void ReadyPipe::close_write() {
  if (fds_[1] >= 0) ::close(fds_[1]);
  fds_[1] = -1;
}

std::optional<std::string> ReadyPipe::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fds_[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char buf[256];
    const ssize_t n = ::read(fds_[0], buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string temp_path(const std::string& tag) {
  static std::atomic<int> counter{0};
  std::string path = "/tmp/stella-test-";
  path.append(std::to_string(::getpid())).append("-").append(std::to_string(counter.fetch_add(1))).append("-").append(tag);
  return path;
}

GoPipe::GoPipe() {
  if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  ::fcntl(fds_[1], F_SETFD, FD_CLOEXEC);  // children hold only the read end
}

GoPipe::~GoPipe() {
  if (fds_[0] >= 0) ::close(fds_[0]);
  if (fds_[1] >= 0) ::close(fds_[1]);
}

void GoPipe::release() {
  if (fds_[1] >= 0) ::close(fds_[1]);
  fds_[1] = -1;
}

void signal_ready(int fd, const std::string& line) {
  const std::string l = line + "\n";
  [[maybe_unused]] const auto n = ::write(fd, l.data(), l.size());
}

std::chrono::nanoseconds process_cpu_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = content.rfind(')');
  if (close == std::string::npos) return std::chrono::nanoseconds(-1);
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return std::chrono::nanoseconds((utime + stime) * 1'000'000'000ull / static_cast<unsigned long long>(ticks));
}

}  // namespace stella::test
