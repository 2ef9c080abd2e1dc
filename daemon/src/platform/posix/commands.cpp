#include "platform/commands.hpp"

#include <csignal>

namespace stella::daemon::sys {

struct PlatformCommands::Impl {};

PlatformCommands::PlatformCommands(CLI::App&) {
  // A status client that hangs up mid-response must not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);
}
PlatformCommands::~PlatformCommands() = default;
std::optional<int> PlatformCommands::run() { return std::nullopt; }

}  // namespace stella::daemon::sys
