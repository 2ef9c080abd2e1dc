// Windows has no sd_notify: every call does nothing. Readiness and stopping reach the
// Service Control Manager through the service wrapper instead (windows-service/, which
// reports SERVICE_RUNNING from DaemonOptions::on_ready).
#include <spdlog/spdlog.h>

#include "stella/daemon/notifier.hpp"

namespace stella::daemon {

Notifier::Notifier() = default;

bool Notifier::send_datagram(const std::string&, std::string_view) { return false; }

void Notifier::send(const std::string&) {}

void Notifier::ready(std::string_view) {
  spdlog::debug("readiness: no sd_notify on Windows (as a service, the wrapper reports SERVICE_RUNNING)");
}
void Notifier::reloading(std::string_view) {}
void Notifier::stopping(std::string_view) {}
void Notifier::status(std::string_view) {}
void Notifier::watchdog() {}

}  // namespace stella::daemon
