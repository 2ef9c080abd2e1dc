#include "report.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include "fd_io.hpp"

namespace stella::bench {
namespace {

std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string human_rate(double v) {
  if (v >= 1e9) return fmt("%.2f G", v / 1e9);
  if (v >= 1e6) return fmt("%.2f M", v / 1e6);
  if (v >= 1e3) return fmt("%.1f k", v / 1e3);
  return fmt("%.0f", v);
}

std::string human_ns(double ns) {
  if (ns >= 1e6) return fmt("%.2f ms", ns / 1e6);
  if (ns >= 1e4) return fmt("%.1f us", ns / 1e3);
  if (ns >= 1e3) return fmt("%.2f us", ns / 1e3);
  return fmt("%.0f ns", ns);
}

std::string human_size(std::size_t bytes) {
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " B";
}

std::string times(double v) { return fmt(v >= 100 ? "%.0fx" : v >= 10 ? "%.1fx" : "%.2fx", v); }

std::string bare(double v) { return fmt(v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v); }

// The median of the per-round ratios to `baseline` with their range, e.g. "0.52x (0.48-0.55)".
std::string ratio_spread(const RunResult& r, const std::string& baseline) {
  auto it = r.ratios.find(baseline);
  if (it == r.ratios.end()) return "-";
  auto spread = r.ratio_spread.find(baseline);
  if (spread == r.ratio_spread.end() || r.rounds < 2) return times(it->second);
  return times(it->second) + " (" + bare(spread->second.first) + "-" + bare(spread->second.second) + ")";
}

std::string percent(double cpu_s, double wall_s) {
  if (wall_s <= 0) return "-";
  return fmt("%.0f%%", 100.0 * cpu_s / wall_s);
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return "\"" + out + "\"";
}

std::string json_number(double v) {
  if (!(v == v) || v > 1e300 || v < -1e300) return "null";
  return fmt("%.6g", v);
}

std::string shares(const RunResult& r) {
  std::string s;
  for (double share : r.writer_share) {
    if (!s.empty()) s += '/';
    s += fmt("%.1f", 100 * share);
  }
  return s.empty() ? "" : s + " %";
}

// Shares, the transport's own note, and for zero-copy runs the ratio to the copying path.
std::string notes(const RunResult& r) {
  std::string n = shares(r);
  if (r.writer_share.size() > 1 && r.rounds > 1) {
    n += fmt(" (worst %.0f%% off", 100 * r.worst_share_deviation) + fmt(", rounds %.0f", 100 * r.worst_share_spread.first) +
         fmt("-%.0f%%)", 100 * r.worst_share_spread.second);
  }
  if (r.ratios.count("copy-path") != 0) n += (n.empty() ? "" : "; ") + ratio_spread(r, "copy-path") + " the copying API";
  if (!r.note.empty()) n += (n.empty() ? "" : "; ") + r.note;
  return n;
}

std::string row_status(const RunResult& r) {
  if (r.skipped) return "skipped: " + *r.skipped;
  if (r.failed) return "FAILED: " + *r.failed;
  return {};
}

const std::vector<std::string> kRatioColumns = {"spsc-ring", "best-os"};

// The baseline a latency result is compared with: the floor of its kind of waiting.
std::string latency_floor(const RunResult& r) {
  return r.spec.latency_gap.count() > 0 ? "futex-floor" : "cacheline-floor";
}

// Half a round trip (message + spinning acknowledgement) means something only when both
// directions cost the same, i.e. with a spinning reader.
std::string rtt_half(const RunResult& r) {
  if (r.spec.latency_gap.count() > 0 || !r.latency) return "-";
  return human_ns(r.latency->rtt_half_p50_ns);
}

template <class Row>
void for_each_group(const std::vector<Scenario>& scenarios, const std::vector<RunResult>& results, Row&& row) {
  for (const auto& sc : scenarios) {
    bool header = true;
    for (const auto& r : results) {
      if (r.spec.scenario != sc.name) continue;
      row(sc, r, header);
      header = false;
    }
  }
}

}  // namespace

MachineInfo describe_machine() {
  MachineInfo m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  m.cpus = std::thread::hardware_concurrency();
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  m.date = date;
  m.mq_msgsize_max = read_proc_long("/proc/sys/fs/mqueue/msgsize_max");
  m.mq_msg_max = read_proc_long("/proc/sys/fs/mqueue/msg_max");
  return m;
}

void print_table(std::ostream& out, const std::vector<Scenario>& scenarios, const std::vector<RunResult>& results) {
  char line[512];
  for_each_group(scenarios, results, [&](const Scenario& sc, const RunResult& r, bool header) {
    const bool latency = sc.spec.mode == RunMode::latency;
    const bool blob = sc.spec.mode == RunMode::blob;
    if (header) {
      out << "\n== " << sc.name << ": " << sc.description << "\n";
      if (blob) {
        std::snprintf(line, sizeof line, "%-8s %-22s %10s %10s %11s %12s %11s\n", "size", "transport", "writes/s",
                      "reads/s", "read MB/s", "new values", "cpu w/r");
        out << line;
      }
      if (blob) {
      } else if (latency) {
        std::snprintf(line, sizeof line, "%-8s %-18s %10s %10s %10s %10s %10s %18s %18s %18s  %s\n", "size",
                      "transport", "p50", "p99", "p99.9", "max", "rtt/2 p50", "x floor", "x spsc", "x best-os",
                      "cpu w/r, wakes w/r");
      } else {
        std::snprintf(line, sizeof line, "%-8s %-18s %10s %10s %18s %18s %11s %8s %9s  %s\n", "size", "transport",
                      "msgs/s", "MB/s", "x spsc", "x best-os", "cpu w/r", "lost", "wakes w/r", "notes");
      }
      if (!blob) out << line;
    }
    const std::string size = human_size(r.spec.message_size);
    const std::string status = row_status(r);
    if (status.empty() && blob) {
      const std::string cpu = percent(r.cpu_writers_s, r.wall_s) + "/" + percent(r.cpu_readers_s, r.wall_s);
      std::snprintf(line, sizeof line, "%-8s %-22s %10s %10s %11s %12llu %11s\n", size.c_str(), r.transport.c_str(),
                    human_rate(r.writer_msgs_per_s).c_str(), human_rate(r.msgs_per_s).c_str(),
                    fmt("%.1f", r.mb_per_s).c_str(), static_cast<unsigned long long>(r.distinct_values), cpu.c_str());
    } else if (!status.empty()) {
      std::snprintf(line, sizeof line, "%-8s %-18s %s\n", size.c_str(), r.transport.c_str(), status.c_str());
    } else if (latency && r.latency) {
      const auto& l = *r.latency;
      std::snprintf(line, sizeof line, "%-8s %-18s %10s %10s %10s %10s %10s %18s %18s %18s  %s/%s, %llu/%llu\n",
                    size.c_str(), r.transport.c_str(), human_ns(l.p50_ns).c_str(), human_ns(l.p99_ns).c_str(),
                    human_ns(l.p999_ns).c_str(), human_ns(l.max_ns).c_str(), rtt_half(r).c_str(),
                    ratio_spread(r, latency_floor(r)).c_str(), ratio_spread(r, "spsc-ring").c_str(),
                    ratio_spread(r, "best-os").c_str(),
                    percent(r.cpu_writers_s, r.wall_s).c_str(), percent(r.cpu_readers_s, r.wall_s).c_str(),
                    static_cast<unsigned long long>(r.wakes_writers), static_cast<unsigned long long>(r.wakes_readers));
    } else {
      const std::string cpu = percent(r.cpu_writers_s, r.wall_s) + "/" + percent(r.cpu_readers_s, r.wall_s);
      const std::string wakes = std::to_string(r.wakes_writers) + "/" + std::to_string(r.wakes_readers);
      std::snprintf(line, sizeof line, "%-8s %-18s %10s %10s %18s %18s %11s %8llu %9s  %s\n", size.c_str(),
                    r.transport.c_str(), human_rate(r.msgs_per_s).c_str(), fmt("%.1f", r.mb_per_s).c_str(),
                    ratio_spread(r, "spsc-ring").c_str(), ratio_spread(r, "best-os").c_str(), cpu.c_str(),
                    static_cast<unsigned long long>(r.lost), wakes.c_str(), notes(r).c_str());
    }
    out << line;
  });
  out << "\nmsgs/s, p50, cpu: the median round; x: the median of the per-round ratios to the baseline run in the "
         "same round, (lowest-highest round); wakes w/r: futex wake calls of the writer(s) / reader(s), all rounds "
         "together; cpu w/r: CPU time of the writer(s) / reader(s) as a share of one core over the run.\n";
}

void print_instructions(std::ostream& out, const Instructions& in) {
  out << "\n== instructions per 64 B message (callgrind, one process: " << in.messages
      << " written, then read; deterministic)\n";
  if (in.unavailable) {
    out << "  not measured: " << *in.unavailable << "\n";
    return;
  }
  char line[256];
  std::snprintf(line, sizeof line, "  %-18s %-10s %10s %10s %10s\n", "transport", "api", "write Ir", "read Ir", "total");
  out << line;
  for (const auto& f : in.figures) {
    std::snprintf(line, sizeof line, "  %-18s %-10s %10.1f %10.1f %10.1f\n", f.transport.c_str(), f.api.c_str(),
                  f.write_ir, f.read_ir, f.write_ir + f.read_ir);
    out << line;
  }
}

void write_json(std::ostream& out, const MachineInfo& m, const SuiteOptions& o, const std::vector<Scenario>& scenarios,
                const std::vector<RunResult>& results, const Instructions& instructions) {
  out << "{\n  \"schema\": 1,\n  \"tool\": \"stella-bench\",\n";
  out << "  \"machine\": {\"cpu_model\": " << json_escape(m.cpu_model) << ", \"cpus\": " << m.cpus
      << ", \"kernel\": " << json_escape(m.kernel) << ", \"date\": " << json_escape(m.date)
      << ", \"mq_msgsize_max\": " << m.mq_msgsize_max << ", \"mq_msg_max\": " << m.mq_msg_max << "},\n";
  out << "  \"options\": {\"smoke\": " << (o.smoke ? "true" : "false")
      << ", \"duration_s\": " << json_number(o.duration.count()) << ", \"ring_capacity\": " << o.ring_capacity
      << ", \"spin_latency_samples\": " << o.spin_latency_samples
      << ", \"sleep_latency_samples\": " << o.sleep_latency_samples << ", \"sleep_gap_us\": " << o.sleep_gap.count()
      << ", \"pin\": " << (o.pin ? "true" : "false") << ", \"rounds\": " << o.rounds << "},\n";
  out << "  \"scenarios\": [";
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const auto& sc = scenarios[i];
    out << (i ? ",\n    " : "\n    ") << "{\"name\": " << json_escape(sc.name)
        << ", \"description\": " << json_escape(sc.description) << ", \"writers\": " << sc.spec.writers
        << ", \"readers\": " << sc.spec.readers << ", \"mode\": \""
        << (sc.spec.mode == RunMode::latency ? "latency" : sc.spec.mode == RunMode::blob ? "blob" : "throughput")
        << "\"}";
  }
  out << "\n  ],\n  \"transports\": [";
  const auto transports = all_transports();
  for (std::size_t i = 0; i < transports.size(); ++i) {
    const auto& t = transports[i];
    out << (i ? ",\n    " : "\n    ") << "{\"name\": " << json_escape(t.name) << ", \"kind\": \"" << to_string(t.kind)
        << "\", \"description\": " << json_escape(t.description) << "}";
  }
  out << "\n  ],\n  \"results\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    out << (i ? ",\n    " : "\n    ") << "{\"scenario\": " << json_escape(r.spec.scenario)
        << ", \"transport\": " << json_escape(r.transport) << ", \"kind\": \"" << to_string(r.kind) << "\""
        << ", \"message_size\": " << r.spec.message_size << ", \"writers\": " << r.spec.writers
        << ", \"readers\": " << r.spec.readers << ", \"zero_copy\": " << (r.spec.zero_copy ? "true" : "false");
    if (r.skipped) {
      out << ", \"status\": \"skipped\", \"reason\": " << json_escape(*r.skipped) << "}";
      continue;
    }
    if (r.failed) {
      out << ", \"status\": \"failed\", \"reason\": " << json_escape(*r.failed) << "}";
      continue;
    }
    out << ", \"status\": \"ok\"";
    if (!r.note.empty()) out << ", \"note\": " << json_escape(r.note);
    out << ", \"wall_s\": " << json_number(r.wall_s) << ", \"sent\": " << r.sent << ", \"received\": " << r.received
        << ", \"lost\": " << r.lost << ", \"reported_lost\": " << r.reported_lost
        << ", \"msgs_per_s\": " << json_number(r.msgs_per_s) << ", \"mb_per_s\": " << json_number(r.mb_per_s)
        << ", \"writer_msgs_per_s\": " << json_number(r.writer_msgs_per_s)
        << ", \"cpu_writers_s\": " << json_number(r.cpu_writers_s)
        << ", \"cpu_readers_s\": " << json_number(r.cpu_readers_s) << ", \"wakes_writers\": " << r.wakes_writers
        << ", \"wakes_readers\": " << r.wakes_readers;
    if (r.spec.mode == RunMode::blob) out << ", \"distinct_values\": " << r.distinct_values;
    if (!r.writer_share.empty()) {
      out << ", \"writer_share\": [";
      for (std::size_t k = 0; k < r.writer_share.size(); ++k) out << (k ? ", " : "") << json_number(r.writer_share[k]);
      out << "]";
    }
    if (r.latency) {
      const auto& l = *r.latency;
      out << ", \"latency_ns\": {\"samples\": " << l.samples << ", \"min\": " << json_number(l.min_ns)
          << ", \"p50\": " << json_number(l.p50_ns) << ", \"p90\": " << json_number(l.p90_ns)
          << ", \"p99\": " << json_number(l.p99_ns) << ", \"p99.9\": " << json_number(l.p999_ns)
          << ", \"max\": " << json_number(l.max_ns) << ", \"mean\": " << json_number(l.mean_ns)
          << ", \"rtt_half_p50\": " << json_number(l.rtt_half_p50_ns) << ", \"cdf\": [";
      for (std::size_t k = 0; k < l.cdf.size(); ++k) {
        out << (k ? ", " : "") << "[" << json_number(l.cdf[k].first) << ", " << json_number(l.cdf[k].second) << "]";
      }
      out << "]}";
    }
    out << ", \"rounds\": " << r.rounds << ", \"round_values\": [";
    for (std::size_t k = 0; k < r.round_values.size(); ++k) out << (k ? ", " : "") << json_number(r.round_values[k]);
    out << "]";
    if (!r.writer_share.empty()) {
      out << ", \"worst_share_deviation\": {\"median\": " << json_number(r.worst_share_deviation)
          << ", \"min\": " << json_number(r.worst_share_spread.first)
          << ", \"max\": " << json_number(r.worst_share_spread.second) << "}";
    }
    out << ", \"ratios\": {";
    bool first = true;
    for (const auto& [name, value] : r.ratios) {
      out << (first ? "" : ", ") << json_escape(name) << ": " << json_number(value);
      first = false;
    }
    out << "}, \"ratio_spread\": {";
    first = true;
    for (const auto& [name, range] : r.ratio_spread) {
      out << (first ? "" : ", ") << json_escape(name) << ": [" << json_number(range.first) << ", "
          << json_number(range.second) << "]";
      first = false;
    }
    out << "}}";
  }
  out << "\n  ],\n  \"instructions\": {\"messages\": " << instructions.messages << ", \"message_size\": 64";
  if (instructions.unavailable) {
    out << ", \"unavailable\": " << json_escape(*instructions.unavailable);
  } else {
    out << ", \"command\": " << json_escape(instructions.command) << ", \"per_message\": [";
    for (std::size_t i = 0; i < instructions.figures.size(); ++i) {
      const auto& f = instructions.figures[i];
      out << (i ? ",\n    " : "\n    ") << "{\"transport\": " << json_escape(f.transport)
          << ", \"api\": " << json_escape(f.api) << ", \"write_ir\": " << json_number(f.write_ir)
          << ", \"read_ir\": " << json_number(f.read_ir) << "}";
    }
    out << "]";
  }
  out << "},\n  \"targets\": [";
  const auto targets = check_targets(results, instructions);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    out << (i ? ",\n    " : "\n    ") << "{\"target\": " << json_escape(t.target)
        << ", \"measured\": " << json_escape(t.measured)
        << ", \"met\": " << (!t.met ? "null" : *t.met ? "true" : "false") << "}";
  }
  out << "\n  ]\n}\n";
}

void write_markdown(std::ostream& out, const MachineInfo& m, const SuiteOptions& o,
                    const std::vector<Scenario>& scenarios, const std::vector<RunResult>& results,
                    const Instructions& instructions) {
  out << "Measured " << m.date << " on " << m.cpu_model << ", " << m.cpus << " CPUs, " << m.kernel << "; "
      << fmt("%.2g", o.duration.count()) << " s per throughput run, ring capacity " << human_size(o.ring_capacity)
      << (o.smoke ? " (SMOKE RUN: numbers meaningless)" : "") << ".\n";
  write_targets_markdown(out, check_targets(results, instructions));
  out << "\n### Instructions per message\n\n";
  if (instructions.unavailable) {
    out << "Not measured: " << *instructions.unavailable << ".\n";
  } else {
    out << "Deterministic (the same on any load or speed mode): instructions executed per 64 B message, `"
        << instructions.command << "` — one process writes " << instructions.messages
        << " messages, then reads them (after a warm-up pass); callgrind counts only the measured loops.\n\n"
           "| transport | API | write Ir/msg | read Ir/msg | total | × spsc-ring (same API) |\n"
           "| --- | --- | ---: | ---: | ---: | ---: |\n";
    for (const auto& f : instructions.figures) {
      const InstructionFigure* spsc = instructions.find("spsc-ring", f.api);
      const double total = f.write_ir + f.read_ir;
      const double base = spsc != nullptr ? spsc->write_ir + spsc->read_ir : 0;
      out << "| " << f.transport << " | " << f.api << " | " << fmt("%.1f", f.write_ir) << " | "
          << fmt("%.1f", f.read_ir) << " | " << fmt("%.1f", total) << " | "
          << (base > 0 ? fmt("%.2fx", total / base) : std::string("-")) << " |\n";
    }
  }
  for_each_group(scenarios, results, [&](const Scenario& sc, const RunResult& r, bool header) {
    const bool latency = sc.spec.mode == RunMode::latency;
    const bool blob = sc.spec.mode == RunMode::blob;
    if (header) {
      out << "\n### " << sc.name << "\n\n" << sc.description << ".\n\n";
      if (blob) {
        out << "| size | transport | writes/s | reads/s | read MB/s | new values seen | CPU w/r |\n"
               "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
      } else if (latency) {
        out << "| transport | p50 | p99 | p99.9 | max | RTT/2 p50 | × floor | × spsc-ring | × best OS | CPU w/r | "
               "wakes w/r |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
      } else {
        out << "| size | transport | msgs/s | MB/s | × spsc-ring | × best OS | CPU w/r | lost | wakes w/r | "
               "notes |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
      }
    }
    const std::string status = row_status(r);
    if (blob) {
      out << "| " << human_size(r.spec.message_size) << " | " << r.transport << " | ";
      if (!status.empty()) {
        out << status << " | | | | |\n";
      } else {
        out << human_rate(r.writer_msgs_per_s) << " | " << human_rate(r.msgs_per_s) << " | "
            << fmt("%.1f", r.mb_per_s) << " | " << r.distinct_values << " | " << percent(r.cpu_writers_s, r.wall_s)
            << " / " << percent(r.cpu_readers_s, r.wall_s) << " |\n";
      }
      return;
    }
    if (latency) {
      if (!status.empty() || !r.latency) {
        out << "| " << r.transport << " | " << status << " | | | | | | | | | |\n";
        return;
      }
      const auto& l = *r.latency;
      out << "| " << r.transport << " | " << human_ns(l.p50_ns) << " | " << human_ns(l.p99_ns) << " | "
          << human_ns(l.p999_ns) << " | " << human_ns(l.max_ns) << " | " << rtt_half(r) << " | "
          << ratio_spread(r, latency_floor(r)) << " | " << ratio_spread(r, "spsc-ring") << " | "
          << ratio_spread(r, "best-os") << " | "
          << percent(r.cpu_writers_s, r.wall_s) << " / " << percent(r.cpu_readers_s, r.wall_s) << " | "
          << r.wakes_writers << " / " << r.wakes_readers << " |\n";
      return;
    }
    out << "| " << human_size(r.spec.message_size) << " | " << r.transport << " | ";
    if (!status.empty()) {
      out << status << " | | | | | | | |\n";
      return;
    }
    out << human_rate(r.msgs_per_s) << " | " << fmt("%.1f", r.mb_per_s) << " | " << ratio_spread(r, "spsc-ring")
        << " | " << ratio_spread(r, "best-os") << " | " << percent(r.cpu_writers_s, r.wall_s) << " / "
        << percent(r.cpu_readers_s, r.wall_s) << " | " << r.lost << " | " << r.wakes_writers << " / "
        << r.wakes_readers << " | " << notes(r) << " |\n";
  });
}

namespace {

const RunResult* find_result(const std::vector<RunResult>& results, const std::string& scenario,
                             const std::string& transport, std::size_t size = 0) {
  for (const auto& r : results) {
    if (r.spec.scenario == scenario && r.transport == transport && (size == 0 || r.spec.message_size == size) &&
        !r.skipped && !r.failed) {
      return &r;
    }
  }
  return nullptr;
}

double ratio_of(const RunResult* r, const std::string& baseline) {
  if (r == nullptr) return -1;
  auto it = r->ratios.find(baseline);
  return it == r->ratios.end() ? -1 : it->second;
}

// "0.52x (0.48-0.55)": the median of the per-round ratios and their range.
TargetCheck ratio_target(const std::string& target, const RunResult* r, const std::string& baseline, double goal,
                         bool at_least) {
  const double v = ratio_of(r, baseline);
  if (v < 0) return {target, "not measured", std::nullopt};
  return {target, ratio_spread(*r, baseline), at_least ? v >= goal : v <= goal};
}

}  // namespace

std::vector<TargetCheck> check_targets(const std::vector<RunResult>& results, const Instructions& instructions) {
  std::vector<TargetCheck> t;
  const char* const kModes[] = {"stella-block", "stella-overwrite"};
  for (const char* m : kModes) {
    const std::string s = m;
    t.push_back(ratio_target("1->1 64 B copy (" + s + ") >= 0.5x spsc-ring",
                             find_result(results, "1to1-copy", s, 64), "spsc-ring", 0.5, true));
  }
  for (const char* m : kModes) {
    const std::string s = m;
    const RunResult* zc = find_result(results, "1to1-zerocopy", s, 64);
    t.push_back(ratio_target("1->1 64 B zero copy (" + s + ") >= 1.0x its copying path", zc, "copy-path", 1.0, true));
    t.push_back(ratio_target("1->1 64 B zero copy (" + s + ") >= 0.8x spsc-ring zero copy", zc, "spsc-ring", 0.8,
                             true));
  }
  // v1 (the writers' turn) moved 0.74 M (Block) / 0.84 M (Overwrite) msgs/s with 4 writers
  // where a pipe moved 1.30 M in the same rounds (issue 12): 0.57x / 0.65x pipe. Absolute
  // rates swing 4x with the VM's speed mode, so "10x v1" is judged as 10x v1's ratio to pipe.
  const double v1_pipe[] = {0.74 / 1.30, 0.84 / 1.30};
  for (int i = 0; i < 2; ++i) {
    const std::string s = kModes[i];
    const RunResult* r = find_result(results, "4to1", s, 64);
    const double goal = 10 * v1_pipe[i];
    TargetCheck c = ratio_target("4->1 64 B aggregate (" + s + ") >= 10x v1: v1 was " + fmt("%.2fx", v1_pipe[i]) +
                                     " pipe, so >= " + fmt("%.1fx", goal) + " pipe",
                                 r, "pipe", goal, true);
    if (c.met) {  // the absolute comparison too, for what it is worth across speed modes
      c.measured += "; " + human_rate(r->msgs_per_s) + " msgs/s = " +
                    fmt("%.1fx", r->msgs_per_s / (v1_pipe[i] * 1.30e6)) + " v1's absolute " +
                    fmt("%.2f M", v1_pipe[i] * 1.30);
    }
    t.push_back(c);
    t.push_back(ratio_target("4->1 64 B aggregate (" + s + ") >= 5x pipe", r, "pipe", 5.0, true));
  }
  t.push_back(ratio_target("one-way p50, spinning reader (stella-block-spin) <= 1.3x spsc-ring",
                           find_result(results, "latency-spin", "stella-block-spin"), "spsc-ring", 1.3, false));
  for (const char* m : kModes) {
    const std::string s = m;
    t.push_back(ratio_target("1->1 4 KiB copy (" + s + ") >= 0.6x spsc-ring",
                             find_result(results, "1to1-copy", s, 4096), "spsc-ring", 0.6, true));
  }
  for (const char* m : kModes) {
    const std::string s = m;
    const std::string target = "4 writers (" + s + "): each share within +-10% of a quarter";
    const RunResult* r = find_result(results, "4to1", s, 64);
    if (r == nullptr || r->writer_share.empty()) {
      t.push_back({target, "not measured", std::nullopt});
    } else {
      std::string measured = "worst " + fmt("%.0f%%", 100 * r->worst_share_deviation) + " off";
      if (r->rounds > 1) {
        measured += fmt(" (rounds %.0f", 100 * r->worst_share_spread.first) +
                    fmt("-%.0f%%)", 100 * r->worst_share_spread.second);
      }
      t.push_back({target, measured + "; median round " + shares(*r), r->worst_share_deviation <= 0.10});
    }
  }
  {
    // A spinning reader never sleeps, so its writer has no one to wake: any wake call is a
    // cost of the hot path. Counted over every round of every 1->1 run.
    std::uint64_t wakes = 0;
    int runs = 0;
    for (const auto& r : results) {
      if (r.skipped || r.failed || r.transport != "stella-block-spin" || r.spec.writers != 1 || r.spec.readers != 1) {
        continue;
      }
      wakes += r.wakes_writers;
      runs += r.rounds;
    }
    const std::string target = "zero wake calls when nobody sleeps (writer of stella-block-spin, 1->1 runs)";
    if (runs == 0) {
      t.push_back({target, "not measured", std::nullopt});
    } else {
      t.push_back({target, std::to_string(wakes) + " wake calls in " + std::to_string(runs) + " runs", wakes == 0});
    }
  }
  for (const char* m : kModes) {
    const std::string s = m;
    const std::string target = "instructions (" + s + "): zero copy write+read <= copying write+read";
    const InstructionFigure* copy = instructions.find(s, "copy");
    const InstructionFigure* zc = instructions.find(s, "zero-copy");
    if (copy == nullptr || zc == nullptr || copy->write_ir < 0 || zc->write_ir < 0) {
      t.push_back({target, "not measured", std::nullopt});
    } else {
      const double a = zc->write_ir + zc->read_ir;
      const double b = copy->write_ir + copy->read_ir;
      t.push_back({target, fmt("%.0f", a) + " vs " + fmt("%.0f Ir/msg", b), a <= b});
    }
  }
  // Earlier targets (issue 5).
  t.push_back(ratio_target("(issue 5) 1->1 64 B copy (stella-block) >= 10x best OS baseline",
                           find_result(results, "1to1-copy", "stella-block", 64), "best-os", 10, true));
  t.push_back(ratio_target("(issue 5) stellad's reaper costs nothing: 1->1 64 B reaped >= 0.9x stella-block",
                           find_result(results, "1to1-copy", "stella-block-reaped", 64), "stella-block", 0.9, true));
  t.push_back(ratio_target("(issue 5) one-way p50, sleeping reader (stella-block) <= 1.5x futex floor",
                           find_result(results, "latency-sleep", "stella-block"), "futex-floor", 1.5, false));
  return t;
}

void print_targets(std::ostream& out, const std::vector<TargetCheck>& targets) {
  out << "\n== targets (issue 12; medians of per-round ratios, (lowest-highest round); reported, never asserted)\n";
  char line[512];
  for (const auto& t : targets) {
    std::snprintf(line, sizeof line, "  %-8s %-86s %s\n", !t.met ? "n/a" : *t.met ? "met" : "MISSED", t.target.c_str(),
                  t.measured.c_str());
    out << line;
  }
}

void write_targets_markdown(std::ostream& out, const std::vector<TargetCheck>& targets) {
  out << "\n### Targets\n\nThe targets of issue 12 (and the earlier ones of issue 5), checked against this run "
         "(reported, never asserted). Ratios are the median of the per-round ratios, with the lowest and highest "
         "round in brackets:\n\n"
         "| target | measured | |\n| --- | --- | --- |\n";
  for (const auto& t : targets) {
    out << "| " << t.target << " | " << t.measured << " | " << (!t.met ? "not measured" : *t.met ? "met" : "**MISSED**")
        << " |\n";
  }
}

void write_plot_data(const std::string& directory, const std::vector<RunResult>& results) {
  namespace fs = std::filesystem;
  std::map<std::string, std::ostringstream> files;
  for (const auto& r : results) {
    if (r.skipped || r.failed) continue;
    auto& f = files[r.spec.scenario + "/" + r.transport + ".dat"];
    if (r.latency) {
      // Up to p99.9: the last few samples (a preempted process) would stretch the axis to seconds.
      for (const auto& [ns, q] : r.latency->cdf) {
        if (q <= 0.999) f << ns << " " << q << "\n";
      }
    } else {
      f << r.spec.message_size << " " << r.msgs_per_s << " " << r.mb_per_s << "\n";
    }
  }
  for (auto& [name, content] : files) {
    const fs::path path = fs::path(directory) / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content.str();
  }
}

}  // namespace stella::bench
