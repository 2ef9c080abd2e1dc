// Shared test helpers: unique segment names that are removed even when a test fails, and
// real child processes (fork/exec) that tests can wait for or kill -9.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace stella::test {

/// A segment name unique to this process and call: "t<pid>-<n>-<tag>".
std::string unique_name(const std::string& tag);

/// Unlinks the named segments on destruction (test failure included).
class SegmentCleanup {
 public:
  explicit SegmentCleanup(std::vector<std::string> names) : names_(std::move(names)) {}
  explicit SegmentCleanup(std::string name) : names_{std::move(name)} {}
  SegmentCleanup(const SegmentCleanup&) = delete;
  SegmentCleanup& operator=(const SegmentCleanup&) = delete;
  ~SegmentCleanup();

 private:
  std::vector<std::string> names_;
};

/// A child process started with fork/exec; killed with SIGKILL and reaped on destruction
/// if still running.
class Child {
 public:
  /// Starts `program` with `args`; its stdout goes to `stdout_file` if given.
  Child(const std::string& program, const std::vector<std::string>& args, const std::string& stdout_file = {});
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Waits for exit; returns the exit code, or 128+signal if killed. nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::minutes(5));
  void kill(int signal);
  [[nodiscard]] bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// A pipe a child writes a line to when it reaches a point (e.g. "ready"), so tests
/// synchronise on events, never on sleeps. The child side's fd is passed as an argument.
class ReadyPipe {
 public:
  ReadyPipe();
  ~ReadyPipe();
  ReadyPipe(const ReadyPipe&) = delete;
  ReadyPipe& operator=(const ReadyPipe&) = delete;
  /// The fd number for the child to write to (inherited across exec).
  [[nodiscard]] int write_fd() const noexcept { return fds_[1]; }
  /// Closes the parent's copy of the write end (after the children are started).
  void close_write();
  /// Reads one line; nullopt on EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  int fds_[2] = {-1, -1};
  std::string buffer_;
};

/// The whole content of a file ("" if missing).
std::string read_file(const std::string& path);
/// The value of `key` in the last line starting with "RESULT " of `text` ("key=value" words).
std::optional<std::string> result_field(const std::string& text, const std::string& key);
/// A unique temporary file path (not created).
std::string temp_path(const std::string& tag);

/// A pipe whose read end children inherit: they block reading it until the parent calls
/// release() (EOF), so many children start at the same moment.
class GoPipe {
 public:
  GoPipe();
  ~GoPipe();
  GoPipe(const GoPipe&) = delete;
  GoPipe& operator=(const GoPipe&) = delete;
  [[nodiscard]] int read_fd() const noexcept { return fds_[0]; }
  void release();

 private:
  int fds_[2] = {-1, -1};
};

/// For helpers: writes `line` + '\n' to fd.
void signal_ready(int fd, const std::string& line);

/// CPU time (user + system) consumed so far by process `pid`, from /proc.
std::chrono::nanoseconds process_cpu_time(pid_t pid);

}  // namespace stella::test
