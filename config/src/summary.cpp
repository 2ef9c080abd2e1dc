// summary(): what `stellad check-config` prints for a valid config.
#include <sstream>

#include "stella/config/config.hpp"

namespace stella::config {

namespace {
std::string describe_lag(const LagThreshold& lag) {
  if (lag.unit == LagThreshold::Unit::bytes) return format_size(lag.bytes);
  std::ostringstream out;
  out << lag.fraction * 100.0 << "% of capacity";
  return out.str();
}

std::string describe_account(const std::optional<Account>& account) {
  if (!account) return "-";
  if (account->name == std::to_string(account->id)) return account->name;
  return account->name + "(" + std::to_string(account->id) + ")";
}
}  // namespace

std::string summary(const Config& config) {
  std::ostringstream out;
  const DaemonConfig& d = config.daemon;
  out << config.source << ": valid (config version " << config.version << ")\n";
  out << "daemon:\n";
  out << "  socket            " << d.socket.string() << " (mode " << format_mode(d.socket_mode) << ")\n";
  out << "  lock file         " << d.effective_lock_file().string() << "\n";
  out << "  pid file          " << (d.pid_file ? d.pid_file->string() : std::string("none")) << "\n";
  out << "  metrics           " << (d.metrics ? "http://" + d.metrics->to_string() + "/metrics" : std::string("off")) << "\n";
  out << "  log level         " << to_string(d.log_level) << "\n";
  out << "  reap interval     " << format_duration(d.reap_interval) << "\n";
  out << "  recovery timeout  " << format_duration(d.recovery_timeout) << "\n";
  out << "  stall eviction    " << (d.stall_eviction ? format_duration(*d.stall_eviction) : std::string("off")) << "\n";
  out << "  lag warning       " << describe_lag(d.lag_warning) << "\n";
  out << "  health window     " << format_duration(d.health_window) << "\n";
  out << "  client timeout    " << format_duration(d.client_timeout) << "\n";
  out << "  remove on exit    " << (d.remove_on_exit ? "yes" : "no") << "\n";
  out << "segments (" << config.segments.size() << "):\n";
  for (const SegmentConfig& s : config.segments) {
    out << "  " << s.name << ": " << to_string(s.kind) << ", " << format_size(s.capacity);
    if (s.kind == SegmentKind::ring) {
      out << ", " << to_string(s.mode) << ", max_readers " << s.max_readers << ", max_writers " << s.max_writers
          << ", lag warning " << describe_lag(s.effective_lag_warning(d));
    }
    out << ", permissions " << format_mode(s.permissions) << ", owner " << describe_account(s.owner) << ", group "
        << describe_account(s.group);
    if (s.reader_group) out << ", reader_group " << describe_account(s.reader_group);
    if (s.writer_group) out << ", writer_group " << describe_account(s.writer_group);
    out << ", remove " << to_string(s.remove);
    if (!s.schema.empty()) out << ", type " << s.schema;
    out << "\n";
  }
  if (!config.bridges.empty()) {
    out << "bridges (" << config.bridges.size() << "):\n";
    for (const BridgeConfig& b : config.bridges) {
      out << "  " << b.name << ": " << b.segment << (b.direction == BridgeDirection::out ? " -> " : " <- ") << b.subject
          << (b.jetstream ? " (JetStream stream " + b.stream + ")" : std::string(" (core NATS)")) << ", servers ";
      for (std::size_t i = 0; i < b.urls.size(); ++i) out << (i > 0 ? "," : "") << b.urls[i];
      if (b.direction == BridgeDirection::out) out << ", start " << to_string(b.start);
      if (b.direction == BridgeDirection::in && b.jetstream) out << ", durable " << b.durable;
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace stella::config
