// Runs one transport on one scenario across real processes (fork) and measures it.
//
// Protocol, identical for every transport: the parent creates the channel(s) and a shared
// control block, forks the readers then the writers; every child opens its endpoint and
// reports ready; the parent releases them all at once; writers stamp each message with a
// sequence number (and, in latency runs, a CLOCK_MONOTONIC timestamp); readers check the
// sequence per writer and count. Children write their counters into the control block and
// exit; the parent turns them into a RunResult.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "transport.hpp"

namespace stella::bench {

enum class RunMode {
  throughput,  // writers send as fast as they can for `duration`
  latency,     // one message at a time: send, wait for the reader's acknowledgement, repeat
  blob,        // a shared value: writers overwrite it, readers read it, both as fast as they can
};

struct RunSpec {
  std::string scenario;
  RunMode mode = RunMode::throughput;
  bool zero_copy = false;  // claim/commit and peek/release instead of send/receive
  int writers = 1;
  int readers = 1;
  std::size_t message_size = 64;
  std::chrono::duration<double> duration{1.0};
  std::size_t latency_samples = 10000;
  std::chrono::microseconds latency_gap{0};  // pause before each latency message
  bool pin = true;                           // 1 writer + 1 reader: pin them to CPUs 0 and 1
  std::size_t ring_capacity = 1u << 20;
};

struct LatencyStats {
  std::size_t samples = 0;
  double min_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0, mean_ns = 0;
  double rtt_half_p50_ns = 0;                    // round trip (message + acknowledgement) / 2
  std::vector<std::pair<double, double>> cdf;    // (latency ns, fraction <=)
};

struct RunResult {
  RunSpec spec;
  std::string transport;
  TransportKind kind = TransportKind::baseline_os;
  std::optional<std::string> skipped;  // why the transport cannot run this (not a failure)
  std::optional<std::string> failed;   // what went wrong
  std::string note;                    // e.g. "4 channels, writer sends to each"

  double wall_s = 0;             // first writer start to last reader end
  std::uint64_t sent = 0;        // messages sent, all writers
  std::uint64_t received = 0;    // messages received, summed over readers
  std::uint64_t lost = 0;        // sent*readers - received (Overwrite may drop)
  std::uint64_t reported_lost = 0;
  std::uint64_t order_errors = 0;  // duplicates or out-of-order per writer: must be 0
  double msgs_per_s = 0;         // delivered per reader (mean over readers)
  double mb_per_s = 0;           // the same in payload MB (10^6 B) per second
  double writer_msgs_per_s = 0;  // offered by all writers together
  double cpu_writers_s = 0;
  double cpu_readers_s = 0;
  std::uint64_t wakes_writers = 0;  // futex wake calls made by the writers
  std::uint64_t wakes_readers = 0;
  std::uint64_t distinct_values = 0;  // blob: new values the reader saw
  std::vector<double> writer_share;  // fraction of the reader's messages from each writer
  std::optional<LatencyStats> latency;
  // Filled by the suite from the interleaved rounds (suite.hpp): each ratio is the median of
  // the per-round ratios (this result / the baseline measured in the same round), with the
  // lowest and highest per-round ratio as its spread.
  std::map<std::string, double> ratios;
  std::map<std::string, std::pair<double, double>> ratio_spread;  // (min, max) over rounds
  int rounds = 1;                    // rounds this result is the median of
  std::vector<double> round_values;  // msgs/s (throughput, blob) or p50 ns (latency), per round
  double worst_share_deviation = 0;  // many writers: median over rounds of max |share*writers - 1|
  std::pair<double, double> worst_share_spread{0, 0};
};

RunResult run_transport(const TransportInfo& transport, const RunSpec& spec);

}  // namespace stella::bench
