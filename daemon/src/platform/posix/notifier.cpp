#include "stella/daemon/notifier.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#ifdef STELLA_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace stella::daemon {

Notifier::Notifier() {
  if (const char* s = std::getenv("NOTIFY_SOCKET"); s != nullptr && *s != '\0') socket_ = s;
  // WATCHDOG_PID, when set, names the process the watchdog is for (sd_watchdog_enabled).
  const char* wpid = std::getenv("WATCHDOG_PID");
  const bool for_us = wpid == nullptr || std::strtoll(wpid, nullptr, 10) == static_cast<long long>(::getpid());
  if (const char* w = std::getenv("WATCHDOG_USEC"); w != nullptr && for_us) {
    const long long usec = std::strtoll(w, nullptr, 10);
    if (usec > 0) watchdog_ = std::chrono::microseconds(usec);
  }
}

bool Notifier::send_datagram(const std::string& socket, std::string_view message) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.empty() || socket.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, socket.data(), socket.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size());
  if (socket[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  } else {
    len = static_cast<socklen_t>(len + 1);
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  ::close(fd);
  return n == static_cast<ssize_t>(message.size());
}

void Notifier::send(const std::string& message) {
  if (!enabled()) return;
#ifdef STELLA_HAVE_LIBSYSTEMD
  (void)::sd_notify(0, message.c_str());
#else
  (void)send_datagram(socket_, message);
#endif
}

void Notifier::ready(std::string_view status) { send("READY=1\nSTATUS=" + std::string(status)); }
void Notifier::reloading(std::string_view status) { send("RELOADING=1\nSTATUS=" + std::string(status)); }
void Notifier::stopping(std::string_view status) { send("STOPPING=1\nSTATUS=" + std::string(status)); }
void Notifier::status(std::string_view status) { send("STATUS=" + std::string(status)); }

void Notifier::watchdog() {
  if (!enabled() || !watchdog_) return;
  const auto now = std::chrono::steady_clock::now();
  if (last_watchdog_ != std::chrono::steady_clock::time_point{} && now - last_watchdog_ < *watchdog_ / 4) return;
  last_watchdog_ = now;
  send("WATCHDOG=1");
}

}  // namespace stella::daemon
