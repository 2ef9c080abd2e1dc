// Helpers for the stellad end-to-end tests: run the real binary on a config in a temporary
// directory, talk to its socket, wait for conditions with a deadline (never a bare sleep).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stella/daemon/protocol.hpp"
#include "stella/daemon/status_client.hpp"

namespace stella::test {

/// A process started with fork/exec, stdout and stderr captured to files, extra environment.
class Proc {
 public:
  /// `open_files`: soft and hard RLIMIT_NOFILE set in the child before exec.
  Proc(const std::string& program, const std::vector<std::string>& args, const std::string& out_file,
       const std::string& err_file, const std::map<std::string, std::string>& env = {},
       std::optional<std::pair<std::uint64_t, std::uint64_t>> open_files = std::nullopt);
  ~Proc();
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Exit code, or 128+signal; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void kill(int signal);
  [[nodiscard]] bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
/// Runs `program args...` to completion (at most `timeout`), capturing stdout and stderr.
CommandResult run_command(const std::string& program, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Polls `condition` until it holds or `timeout` passes (a few ms between polls).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text);

/// A running stellad on a config in its own temporary directory.
class Stellad {
 public:
  /// `config_body` is everything after the [daemon] table's socket line (more daemon keys,
  /// then [[segment]] tables); the socket lives in the temporary directory.
  Stellad(const std::string& tag, const std::string& daemon_keys, const std::string& segments,
          std::map<std::string, std::string> env = {});
  ~Stellad();
  Stellad(const Stellad&) = delete;
  Stellad& operator=(const Stellad&) = delete;

  /// Starts stellad and waits until it answers ping (fails the test if it exits).
  void start();
  /// Starts stellad and returns without waiting.
  void launch();
  /// The soft and hard RLIMIT_NOFILE stellad starts with (from the next launch on).
  void set_open_files(std::uint64_t soft, std::uint64_t hard) { open_files_ = std::pair{soft, hard}; }
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// SIGTERM and wait; returns the exit code.
  std::optional<int> stop(int signal = 15);
  /// Replaces the config file (for a SIGHUP reload).
  void rewrite_config(const std::string& daemon_keys, const std::string& segments);

  [[nodiscard]] daemon::QueryResult query(daemon::protocol::Command c = daemon::protocol::Command::status) const;
  /// The status report (fails the test when unreachable).
  [[nodiscard]] daemon::protocol::StatusReport status() const;
  [[nodiscard]] std::optional<daemon::protocol::SegmentReport> segment(const std::string& name) const;
  [[nodiscard]] std::string log() const;
  /// Waits until the log contains `text`.
  bool log_contains(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  [[nodiscard]] const std::string& socket() const noexcept { return socket_; }
  [[nodiscard]] const std::string& config() const noexcept { return config_; }
  [[nodiscard]] const std::string& dir() const noexcept { return dir_.path(); }
  [[nodiscard]] Proc& proc() { return *proc_; }

 private:
  TempDir dir_;
  std::string socket_, config_, log_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Proc> proc_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> open_files_;
  int launches_ = 0;
};

/// Config snippets.
std::string ring_segment(const std::string& name, const std::string& capacity, const std::string& mode,
                         const std::string& extra = {});
std::string blob_segment(const std::string& name, const std::string& capacity, const std::string& extra = {});

/// File mode bits of a path (07777), or -1 if it does not exist.
int file_mode(const std::string& path);
/// "/dev/shm/stella.<name>".
std::string shm_path(const std::string& name);

}  // namespace stella::test
