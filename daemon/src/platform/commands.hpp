// What stellad's main does differently per platform, so that main.cpp stays free of
// #ifdef: on POSIX, SIGPIPE is ignored (a status client that hangs up must not kill the
// daemon) and there are no extra subcommands (systemd and signals do that work); on
// Windows, the subcommands `stop` and `service install|uninstall|run` (windows-service/).
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace stella::daemon::sys {

class PlatformCommands {
 public:
  /// Sets the process up and adds the platform's subcommands to `app`; construct it first.
  explicit PlatformCommands(CLI::App& app);
  ~PlatformCommands();
  PlatformCommands(const PlatformCommands&) = delete;
  PlatformCommands& operator=(const PlatformCommands&) = delete;

  /// After parsing: the exit status of the platform subcommand that was given, if any.
  [[nodiscard]] std::optional<int> run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stella::daemon::sys
