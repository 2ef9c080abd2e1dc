// `stellad status`'s readable table. Sizes, durations and modes are written by
// stella/config/format.hpp, as everywhere else.
#include <algorithm>
#include <sstream>

#include "stella/config/format.hpp"
#include "stella/daemon/protocol.hpp"

namespace stella::daemon::protocol {

namespace {

using Row = std::vector<std::string>;

// Left-aligned columns, two spaces apart, each as wide as its widest cell.
class Columns {
 public:
  Columns(const Row& head, const std::vector<Row>& rows) : width_(head.size()) {
    for (std::size_t c = 0; c < head.size(); ++c) {
      width_[c] = head[c].size();
      for (const Row& row : rows) width_[c] = std::max(width_[c], row[c].size());
    }
  }
  void print(std::ostream& out, const Row& row) const {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width_[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  }

 private:
  std::vector<std::size_t> width_;
};

}  // namespace

std::string render_table(const StatusReport& r) {
  std::ostringstream out;
  out << "stellad " << r.daemon.version << " (pid " << r.daemon.pid << "), up " << config::format_uptime(std::chrono::nanoseconds(r.daemon.uptime_ns))
      << ": " << to_string(r.health) << "\n";
  out << "config " << r.daemon.config << ", socket " << r.daemon.socket << "\n";
  out << "reaper: " << r.daemon.reap_passes << " passes, every " << r.daemon.reap_interval_ns / 1'000'000 << " ms, last "
      << r.daemon.last_reap_age_ns / 1'000'000 << " ms ago; reloads: " << r.daemon.reloads;
  if (r.daemon.reload_failures != 0) out << " (" << r.daemon.reload_failures << " failed)";
  out << "\n";
  if (r.daemon.max_connections != 0) {
    out << "status socket: " << r.daemon.connections << " open (cap " << r.daemon.max_connections;
    if (r.daemon.open_files_limit != 0) out << ", open-file limit " << r.daemon.open_files_limit;
    out << "), " << r.daemon.connections_dropped << " dropped (" << r.daemon.connections_evicted
        << " for newer ones), " << r.daemon.accept_failures << " failed accepts\n";
  }
  for (const std::string& p : r.problems) out << "  ! " << p << "\n";
  out << "\n";

  const std::vector<std::string> head = {"SEGMENT", "KIND",    "CAPACITY", "MODE",       "PERMS", "WRITE POS",
                                         "WRITERS", "READERS", "RECOVERIES", "REAPS", "EVICTED", "STATE"};
  std::vector<std::vector<std::string>> rows;
  for (const SegmentReport& s : r.segments) {
    const bool ring = s.kind == "ring";
    const bool mapped = s.state == "live" || s.state == "draining";
    rows.push_back({s.name, s.kind, mapped ? config::format_size_rounded(s.capacity) : "-", ring && mapped ? s.mode : "-",
                    mapped ? config::format_mode(s.permissions) : "-",
                    ring && mapped ? std::to_string(s.write_position)
                                   : (mapped ? "gen " + std::to_string(s.generation) : "-"),
                    ring && mapped ? std::to_string(s.writers.size()) : "-",
                    ring && mapped ? std::to_string(s.readers.size()) : "-",
                    ring && mapped ? std::to_string(s.counters.recoveries()) : "-",
                    ring && mapped ? std::to_string(s.counters.reaps()) : "-",
                    ring && mapped ? std::to_string(s.counters.readers_evicted) : "-", s.state});
  }
  const Columns columns(head, rows);
  columns.print(out, head);
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    columns.print(out, rows[i]);
    const SegmentReport& s = r.segments[i];
    if (!s.detail.empty()) out << "    " << s.detail << "\n";
    for (const std::string& stall : s.stalls) out << "    ! " << stall << "\n";
    for (const WriterReport& w : s.writers) {
      out << "    writer  slot " << w.slot << "  pid " << w.pid << "  written " << w.messages_written << "\n";
    }
    for (const ReaderReport& x : s.readers) {
      out << "    reader  slot " << x.slot << "  pid " << x.pid << "  lag " << config::format_size_rounded(x.lag_bytes) << "  read "
          << x.messages_read << "  lost " << x.messages_lost;
      if (x.evicted) out << "  EVICTED";
      if (x.lagging) out << "  LAGGING (warning at " << config::format_size_rounded(s.lag_warning_bytes) << ")";
      out << "\n";
    }
  }
  if (r.segments.empty()) out << "(no segments)\n";
  if (!r.bridges.empty()) {
    const std::vector<std::string> bhead = {"BRIDGE",    "SEGMENT", "DIR",        "SUBJECT",    "STATE",    "FORWARDED",
                                            "RECEIVED",  "LOST",    "PUB ERRORS", "RECONNECTS", "IN FLIGHT"};
    std::vector<std::vector<std::string>> brows;
    for (const BridgeReport& b : r.bridges) {
      brows.push_back({b.name, b.segment, b.direction, b.subject + (b.stream.empty() ? "" : " [" + b.stream + "]"),
                       b.state, std::to_string(b.forwarded), std::to_string(b.received), std::to_string(b.lost),
                       std::to_string(b.publish_errors), std::to_string(b.reconnects), std::to_string(b.in_flight)});
    }
    const Columns bcolumns(bhead, brows);
    out << "\n";
    bcolumns.print(out, bhead);
    for (std::size_t i = 0; i < r.bridges.size(); ++i) {
      bcolumns.print(out, brows[i]);
      const BridgeReport& b = r.bridges[i];
      if (b.duplicates != 0 || b.backpressure_waits != 0) {
        out << "    duplicates " << b.duplicates << "  backpressure waits " << b.backpressure_waits << "\n";
      }
      if (!b.detail.empty()) out << "    " << b.detail << "\n";
    }
  }
  return out.str();
}

}  // namespace stella::daemon::protocol
