// The scenarios of the benchmark and the transports each one runs. A scenario is a
// RunSpec template plus a rule choosing its transports; every result of a scenario is
// compared, as a ratio, with the baselines measured in the same run.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "transport.hpp"

namespace stella::bench {

struct SuiteOptions {
  bool smoke = false;
  std::chrono::duration<double> duration{1.0};
  std::vector<std::size_t> sizes{8, 64, 512, 4096, 65536};
  std::vector<std::string> scenario_filter;   // substrings; empty = all
  std::vector<std::string> transport_filter;  // substrings; empty = all
  std::size_t spin_latency_samples = 100000;
  std::size_t sleep_latency_samples = 5000;
  std::chrono::microseconds sleep_gap{200};
  std::size_t ring_capacity = 1u << 20;
  bool pin = true;
  // Rounds: every transport of a scenario (and of the scenarios sharing its round group)
  // runs once per round, the order rotating from round to round; each reported ratio is the
  // median of the per-round ratios, so a change of the machine's speed between rounds
  // cancels out.
  int rounds = 5;
  bool verbose = true;  // one progress line per run on stderr
};

struct Scenario {
  std::string name;
  std::string description;
  RunSpec spec;                         // message_size is replaced by each of `sizes`
  std::vector<std::size_t> sizes;
  std::function<bool(const TransportInfo&)> includes;
  /// Scenarios with the same group run in the same rounds, size by size (1to1-copy and
  /// 1to1-zerocopy), so that their results can be compared round by round too.
  std::string group;
  /// If set: each result also gets the ratio "copy-path", to the same transport in this
  /// scenario (same size, same round).
  std::string compare_scenario;
};

/// Every transport compiled in: floors, baselines, and Stella's when the ring exists.
std::vector<TransportInfo> all_transports();
/// Stella's own transports (empty until the ring's public header is there).
std::vector<TransportInfo> stella_transports();

std::vector<Scenario> make_scenarios(const SuiteOptions& options);

/// Runs every selected scenario × size × transport in interleaved rounds and returns one
/// result per scenario × size × transport: the median round, with the ratios filled in.
std::vector<RunResult> run_suite(const SuiteOptions& options);

}  // namespace stella::bench
