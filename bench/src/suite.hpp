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
  int repeat = 1;       // runs per measurement; the median (by rate, or by p50) is kept
  bool verbose = true;  // one progress line per run on stderr
};

struct Scenario {
  std::string name;
  std::string description;
  RunSpec spec;                         // message_size is replaced by each of `sizes`
  std::vector<std::size_t> sizes;
  std::function<bool(const TransportInfo&)> includes;
};

/// Every transport compiled in: floors, baselines, and Stella's when the ring exists.
std::vector<TransportInfo> all_transports();
/// Stella's own transports (empty until the ring's public header is there).
std::vector<TransportInfo> stella_transports();

std::vector<Scenario> make_scenarios(const SuiteOptions& options);

/// Runs every selected scenario × size × transport and fills in the ratios.
std::vector<RunResult> run_suite(const SuiteOptions& options);

/// result / baseline for every baseline and floor of the same scenario and size.
void compute_ratios(std::vector<RunResult>& results);

}  // namespace stella::bench
