#include "suite.hpp"

#include <algorithm>
#include <cstdio>

#include "baselines/baselines.hpp"

namespace stella::bench {
namespace {

constexpr std::size_t kLatencyMessageBytes = 32;  // header + send time + padding; fits the floors' line
constexpr std::size_t kContendedMessageBytes = 64;

bool matches(const std::string& name, const std::vector<std::string>& filter) {
  if (filter.empty()) return true;
  for (const auto& f : filter) {
    if (name.find(f) != std::string::npos) return true;
  }
  return false;
}

bool is_floor(const TransportInfo& t) { return t.kind == TransportKind::floor; }

bool is_baseline(TransportKind kind) { return kind != TransportKind::stella; }

}  // namespace

std::vector<TransportInfo> all_transports() {
  std::vector<TransportInfo> list = {
      cacheline_floor_transport(), futex_floor_transport(),           pipe_transport(),
      unix_seqpacket_transport(),  posix_mq_transport(),              boost_mq_transport(),
      spsc_ring_transport(false),  spsc_ring_transport(true),
  };
  for (auto& t : stella_transports()) list.push_back(std::move(t));
  return list;
}

std::vector<Scenario> make_scenarios(const SuiteOptions& o) {
  std::vector<Scenario> s;
  RunSpec base;
  base.duration = o.duration;
  base.ring_capacity = o.ring_capacity;
  base.pin = o.pin;

  {
    Scenario sc{"1to1-copy", "1 writer -> 1 reader, copying API (send / receive into a buffer)", base, o.sizes,
                [](const TransportInfo& t) { return !is_floor(t); }};
    s.push_back(sc);
  }
  {
    Scenario sc{"1to1-zerocopy",
                "1 writer -> 1 reader, zero-copy API: the writer claims space and fills the whole message in place; "
                "the reader looks at the record in place and reads only its 8-byte header",
                base, o.sizes, [](const TransportInfo& t) { return t.zero_copy; }};
    sc.spec.zero_copy = true;
    s.push_back(sc);
  }
  {
    Scenario sc{"4to1", "4 writers -> 1 reader (aggregate at the reader; each writer's share of it)", base,
                {kContendedMessageBytes}, [](const TransportInfo& t) { return !is_floor(t); }};
    sc.spec.writers = 4;
    s.push_back(sc);
  }
  {
    Scenario sc{"1to4",
                "1 writer -> 4 readers, each reader gets every message (rate per reader); point-to-point "
                "transports use one channel per reader",
                base, {kContendedMessageBytes}, [](const TransportInfo& t) { return !is_floor(t); }};
    sc.spec.readers = 4;
    s.push_back(sc);
  }
  {
    Scenario sc{"latency-spin",
                "one-way latency, one message in flight, reader spinning (send time stamped in the message)", base,
                {kLatencyMessageBytes}, [](const TransportInfo& t) { return t.reader_wait == ReaderWait::spin; }};
    sc.spec.mode = RunMode::latency;
    sc.spec.latency_samples = o.spin_latency_samples;
    s.push_back(sc);
  }
  {
    Scenario sc{"latency-sleep",
                "one-way latency to a reader asleep in the kernel (a pause of " +
                    std::to_string(o.sleep_gap.count()) + " us before each message)",
                base, {kLatencyMessageBytes}, [](const TransportInfo& t) { return t.reader_wait == ReaderWait::sleep; }};
    sc.spec.mode = RunMode::latency;
    sc.spec.latency_samples = o.sleep_latency_samples;
    sc.spec.latency_gap = o.sleep_gap;
    s.push_back(sc);
  }
  {
    std::vector<std::size_t> sizes;
    for (std::size_t size : o.sizes) {
      if (size >= 16) sizes.push_back(size);  // a value carries its sequence at both ends
    }
    Scenario sc{"shared-memory",
                "SharedMemory: 1 writer overwrites the value while 1 reader reads it, both flat out (writes/s, "
                "reads/s, each read checked whole)",
                base, sizes, [](const TransportInfo& t) { return t.blob; }};
    sc.spec.mode = RunMode::blob;
    s.push_back(sc);
  }
  std::vector<Scenario> selected;
  for (auto& sc : s) {
    if (matches(sc.name, o.scenario_filter)) selected.push_back(std::move(sc));
  }
  return selected;
}

std::vector<RunResult> run_suite(const SuiteOptions& o) {
  std::vector<RunResult> results;
  const auto transports = all_transports();
  for (const auto& sc : make_scenarios(o)) {
    for (std::size_t size : sc.sizes) {
      for (const auto& t : transports) {
        if (!sc.includes(t) || !matches(t.name, o.transport_filter)) continue;
        if ((sc.spec.mode == RunMode::blob) != t.blob) continue;
        RunSpec spec = sc.spec;
        spec.scenario = sc.name;
        spec.message_size = size;
        if (o.verbose) {
          std::fprintf(stderr, "  %-14s %6zu B  %-22s", sc.name.c_str(), size, t.name.c_str());
          std::fflush(stderr);
        }
        RunResult r = run_transport(t, spec);
        if (o.repeat > 1 && !r.skipped && !r.failed) {
          // The median of several runs, interleaving nothing else: damps a noisy neighbour.
          std::vector<RunResult> runs{std::move(r)};
          for (int k = 1; k < o.repeat; ++k) runs.push_back(run_transport(t, spec));
          auto failed = std::find_if(runs.begin(), runs.end(), [](const RunResult& x) { return x.failed.has_value(); });
          if (failed != runs.end()) {
            r = std::move(*failed);
          } else {
            auto key = [](const RunResult& x) { return x.latency ? -x.latency->p50_ns : x.msgs_per_s; };
            std::sort(runs.begin(), runs.end(), [&](const RunResult& a, const RunResult& b) { return key(a) < key(b); });
            r = std::move(runs[runs.size() / 2]);
            r.note += (r.note.empty() ? "" : "; ") + std::string("median of ") + std::to_string(o.repeat);
          }
        }
        if (o.verbose) {
          if (r.skipped) {
            std::fprintf(stderr, " skipped: %s\n", r.skipped->c_str());
          } else if (r.failed) {
            std::fprintf(stderr, " FAILED: %s\n", r.failed->c_str());
          } else if (r.latency) {
            std::fprintf(stderr, " p50 %.0f ns\n", r.latency->p50_ns);
          } else if (r.spec.mode == RunMode::blob) {
            std::fprintf(stderr, " %.3g writes/s, %.3g reads/s\n", r.writer_msgs_per_s, r.msgs_per_s);
          } else {
            std::fprintf(stderr, " %.3g msgs/s\n", r.msgs_per_s);
          }
        }
        results.push_back(std::move(r));
      }
    }
  }
  compute_ratios(results);
  return results;
}

void compute_ratios(std::vector<RunResult>& results) {
  for (auto& r : results) {
    if (r.skipped || r.failed) continue;
    double best_os_rate = 0;
    double best_os_p50 = 0;
    for (const auto& b : results) {
      if (b.skipped || b.failed || !is_baseline(b.kind) || b.spec.scenario != r.spec.scenario ||
          b.spec.message_size != r.spec.message_size) {
        continue;
      }
      if (r.latency && b.latency && b.latency->p50_ns > 0) {
        r.ratios[b.transport] = r.latency->p50_ns / b.latency->p50_ns;
        if (b.kind == TransportKind::baseline_os && (best_os_p50 == 0 || b.latency->p50_ns < best_os_p50)) {
          best_os_p50 = b.latency->p50_ns;
        }
      } else if (!r.latency && !b.latency && b.msgs_per_s > 0) {
        r.ratios[b.transport] = r.msgs_per_s / b.msgs_per_s;
        if (b.kind == TransportKind::baseline_os) best_os_rate = std::max(best_os_rate, b.msgs_per_s);
      }
    }
    if (best_os_rate > 0) r.ratios["best-os"] = r.msgs_per_s / best_os_rate;
    if (best_os_p50 > 0 && r.latency) r.ratios["best-os"] = r.latency->p50_ns / best_os_p50;
  }
}

}  // namespace stella::bench
