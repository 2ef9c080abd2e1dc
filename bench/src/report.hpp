// Output of a run: the console table, the JSON document, the Markdown tables of
// docs/benchmarks.md, and the data files scripts/bench.sh plots with gnuplot.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "instructions.hpp"
#include "suite.hpp"

namespace stella::bench {

struct MachineInfo {
  std::string cpu_model;
  unsigned cpus = 0;
  std::string kernel;
  std::string date;  // UTC, ISO 8601
  long mq_msgsize_max = -1;
  long mq_msg_max = -1;
};

MachineInfo describe_machine();

void print_table(std::ostream& out, const std::vector<Scenario>& scenarios, const std::vector<RunResult>& results);
void print_instructions(std::ostream& out, const Instructions& instructions);
void write_json(std::ostream& out, const MachineInfo& machine, const SuiteOptions& options,
                const std::vector<Scenario>& scenarios, const std::vector<RunResult>& results,
                const Instructions& instructions);
void write_markdown(std::ostream& out, const MachineInfo& machine, const SuiteOptions& options,
                    const std::vector<Scenario>& scenarios, const std::vector<RunResult>& results,
                    const Instructions& instructions);
/// The targets of issue 12 (and the earlier ones of issue 5), each with the figure measured
/// in this run and met / MISSED. Reported, never asserted.
struct TargetCheck {
  std::string target;
  std::string measured;
  std::optional<bool> met;  // nullopt: not measured in this run
};
std::vector<TargetCheck> check_targets(const std::vector<RunResult>& results, const Instructions& instructions);
void print_targets(std::ostream& out, const std::vector<TargetCheck>& targets);
void write_targets_markdown(std::ostream& out, const std::vector<TargetCheck>& targets);

/// DIR/<scenario>/<transport>.dat: "size msgs/s MB/s" rows, or "latency_ns fraction" (CDF).
void write_plot_data(const std::string& directory, const std::vector<RunResult>& results);

}  // namespace stella::bench
