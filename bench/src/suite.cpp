#include "suite.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

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
                [](const TransportInfo& t) { return !is_floor(t); }, {}, {}};
    sc.group = "1to1";
    s.push_back(sc);
  }
  {
    Scenario sc{"1to1-zerocopy",
                "1 writer -> 1 reader, zero-copy API: the writer claims space and fills the whole message in place; "
                "the reader looks at the record in place and reads only its 8-byte header",
                base, o.sizes, [](const TransportInfo& t) { return t.zero_copy; }, {}, {}};
    sc.spec.zero_copy = true;
    sc.group = "1to1";  // same rounds as 1to1-copy: "copy-path" compares the two APIs round by round
    sc.compare_scenario = "1to1-copy";
    s.push_back(sc);
  }
  {
    Scenario sc{"4to1", "4 writers -> 1 reader (aggregate at the reader; each writer's share of it)", base,
                {kContendedMessageBytes}, [](const TransportInfo& t) { return !is_floor(t); }, {}, {}};
    sc.spec.writers = 4;
    s.push_back(sc);
  }
  {
    Scenario sc{"1to4",
                "1 writer -> 4 readers, each reader gets every message (rate per reader); point-to-point "
                "transports use one channel per reader",
                base, {kContendedMessageBytes}, [](const TransportInfo& t) { return !is_floor(t); }, {}, {}};
    sc.spec.readers = 4;
    s.push_back(sc);
  }
  {
    Scenario sc{"latency-spin",
                "one-way latency, one message in flight, reader spinning (send time stamped in the message)", base,
                {kLatencyMessageBytes}, [](const TransportInfo& t) { return t.reader_wait == ReaderWait::spin; }, {}, {}};
    sc.spec.mode = RunMode::latency;
    sc.spec.latency_samples = o.spin_latency_samples;
    s.push_back(sc);
  }
  {
    Scenario sc{"latency-sleep",
                "one-way latency to a reader asleep in the kernel (a pause of " +
                    std::to_string(o.sleep_gap.count()) + " us before each message)",
                base, {kLatencyMessageBytes}, [](const TransportInfo& t) { return t.reader_wait == ReaderWait::sleep; }, {}, {}};
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
                base, sizes, [](const TransportInfo& t) { return t.blob; }, {}, {}};
    sc.spec.mode = RunMode::blob;
    s.push_back(sc);
  }
  std::vector<Scenario> selected;
  for (auto& sc : s) {
    if (matches(sc.name, o.scenario_filter)) selected.push_back(std::move(sc));
  }
  return selected;
}

namespace {

// One scenario × size × transport, run once per round.
struct Cell {
  const Scenario* scenario;
  std::size_t size;
  const TransportInfo* transport;
  std::vector<RunResult> runs;       // one per round, in round order
  std::optional<RunResult> stopped;  // skipped (decided by the first round) or failed
};

// What a round is judged by: messages per second, or the median one-way latency.
double value_of(const RunResult& r) { return r.latency ? r.latency->p50_ns : r.msgs_per_s; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double worst_share_deviation(const RunResult& r) {
  double worst = 0;
  for (double share : r.writer_share) {
    worst = std::max(worst, std::abs(share * static_cast<double>(r.writer_share.size()) - 1.0));
  }
  return worst;
}

void progress(const SuiteOptions& o, const Cell& c, int round, const RunResult& r) {
  if (!o.verbose) return;
  std::fprintf(stderr, "  r%d/%d %-14s %6zu B  %-22s", round + 1, o.rounds, c.scenario->name.c_str(), c.size,
               c.transport->name.c_str());
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

// Per-round ratios of `c` to `b` (value_of, same round index), or empty if they cannot compare.
std::vector<double> round_ratios(const Cell& c, const Cell& b) {
  std::vector<double> out;
  if (c.runs.size() != b.runs.size()) return out;
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    const RunResult& x = c.runs[i];
    const RunResult& y = b.runs[i];
    if (x.latency.has_value() != y.latency.has_value() || value_of(y) <= 0) return {};
    out.push_back(value_of(x) / value_of(y));
  }
  return out;
}

void put_ratio(RunResult& r, const std::string& key, const std::vector<double>& per_round) {
  if (per_round.empty()) return;
  r.ratios[key] = median(per_round);
  r.ratio_spread[key] = {*std::min_element(per_round.begin(), per_round.end()),
                         *std::max_element(per_round.begin(), per_round.end())};
}

// The reported result of a cell: its median round, with the medians of the per-round ratios
// to every baseline of its scenario (and to the best OS baseline of each round, and to the
// copying path of the same transport for zero-copy scenarios).
RunResult summarize(const Cell& c, const std::vector<Cell>& group) {
  if (c.stopped) return *c.stopped;
  std::vector<std::size_t> order(c.runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const bool latency = c.runs.front().latency.has_value();
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return latency ? value_of(c.runs[a]) > value_of(c.runs[b]) : value_of(c.runs[a]) < value_of(c.runs[b]);
  });
  RunResult r = c.runs[order[order.size() / 2]];
  r.rounds = static_cast<int>(c.runs.size());
  r.round_values.clear();
  r.wakes_writers = 0;
  r.wakes_readers = 0;
  std::vector<double> deviations;
  for (const auto& run : c.runs) {
    r.round_values.push_back(value_of(run));
    r.wakes_writers += run.wakes_writers;  // totals over the rounds: "none" must hold in every one
    r.wakes_readers += run.wakes_readers;
    if (!run.writer_share.empty()) deviations.push_back(worst_share_deviation(run));
  }
  if (!deviations.empty()) {
    r.worst_share_deviation = median(deviations);
    r.worst_share_spread = {*std::min_element(deviations.begin(), deviations.end()),
                            *std::max_element(deviations.begin(), deviations.end())};
  }
  if (!latency) r.msgs_per_s = median(r.round_values);
  std::vector<double> best_os(c.runs.size(), 0);
  for (const auto& b : group) {
    if (b.stopped || b.scenario != c.scenario || b.size != c.size) continue;
    if (&b == &c) continue;
    put_ratio(r, b.transport->name, round_ratios(c, b));  // every other transport, e.g. -reaped to plain
    if (b.transport->kind == TransportKind::baseline_os && b.runs.size() == c.runs.size()) {
      for (std::size_t i = 0; i < b.runs.size(); ++i) {
        const double v = value_of(b.runs[i]);
        if (v > 0 && (best_os[i] == 0 || (latency ? v < best_os[i] : v > best_os[i]))) best_os[i] = v;
      }
    }
  }
  if (std::all_of(best_os.begin(), best_os.end(), [](double v) { return v > 0; })) {
    std::vector<double> per_round;
    for (std::size_t i = 0; i < c.runs.size(); ++i) per_round.push_back(value_of(c.runs[i]) / best_os[i]);
    put_ratio(r, "best-os", per_round);
  }
  if (!c.scenario->compare_scenario.empty()) {
    for (const auto& b : group) {
      if (!b.stopped && b.scenario->name == c.scenario->compare_scenario && b.size == c.size &&
          b.transport == c.transport) {
        put_ratio(r, "copy-path", round_ratios(c, b));
      }
    }
  }
  return r;
}

}  // namespace

std::vector<RunResult> run_suite(const SuiteOptions& o) {
  const auto transports = all_transports();
  const auto scenarios = make_scenarios(o);
  // The round groups, in the order their first scenario appears: (group, size) -> cells.
  std::vector<std::pair<std::string, std::size_t>> keys;
  std::map<std::pair<std::string, std::size_t>, std::vector<Cell>> groups;
  for (const auto& sc : scenarios) {
    const std::string group = sc.group.empty() ? sc.name : sc.group;
    for (std::size_t size : sc.sizes) {
      const auto key = std::make_pair(group, size);
      for (const auto& t : transports) {
        if (!sc.includes(t) || !matches(t.name, o.transport_filter)) continue;
        if ((sc.spec.mode == RunMode::blob) != t.blob) continue;
        if (groups.find(key) == groups.end()) keys.push_back(key);
        groups[key].push_back(Cell{&sc, size, &t, {}, std::nullopt});
      }
    }
  }
  const int rounds = std::max(1, o.rounds);
  std::vector<RunResult> results;
  for (const auto& key : keys) {
    auto& cells = groups[key];
    for (int round = 0; round < rounds; ++round) {
      // Each round starts one cell later, so that no transport always follows the same one.
      for (std::size_t k = 0; k < cells.size(); ++k) {
        Cell& c = cells[(k + static_cast<std::size_t>(round)) % cells.size()];
        if (c.stopped) continue;
        RunSpec spec = c.scenario->spec;
        spec.scenario = c.scenario->name;
        spec.message_size = c.size;
        RunResult r = run_transport(*c.transport, spec);
        progress(o, c, round, r);
        if (r.skipped || r.failed) {
          if (r.failed) r.failed = "round " + std::to_string(round + 1) + ": " + *r.failed;
          c.stopped = std::move(r);
        } else {
          c.runs.push_back(std::move(r));
        }
      }
    }
    // Results in scenario order, then transport order, as the tables list them.
    for (const auto& c : cells) results.push_back(summarize(c, cells));
  }
  std::stable_sort(results.begin(), results.end(), [&](const RunResult& a, const RunResult& b) {
    auto index = [&](const std::string& name) {
      for (std::size_t i = 0; i < scenarios.size(); ++i) {
        if (scenarios[i].name == name) return i;
      }
      return scenarios.size();
    };
    return index(a.spec.scenario) < index(b.spec.scenario);
  });
  return results;
}

}  // namespace stella::bench
