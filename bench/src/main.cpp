// stella-bench: Stella's ring against its baselines, across real processes.
// Thin: parse the options, run the suite, print and write the reports.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "report.hpp"
#include "suite.hpp"

namespace {

using stella::bench::SuiteOptions;

constexpr const char* kUsage = R"(usage: stella-bench [options]
Runs every scenario across real processes (fork) and prints a table; every result is also
given as a ratio to the baselines measured in the same run.

  --smoke                 a few seconds in all (CI: keeps the benchmark working, proves nothing)
  --duration SECONDS      length of each throughput run (default 1)
  --sizes LIST            message sizes, e.g. 8,64,512,4K,64K (default 8,64,512,4096,65536)
  --scenario LIST         only scenarios whose name contains one of these (comma-separated)
  --transport LIST        only transports whose name contains one of these
  --latency-samples N     samples of the spinning-reader latency run (default 100000)
  --sleep-samples N       samples of the sleeping-reader latency run (default 5000)
  --sleep-gap US          pause before each sleeping-reader message, microseconds (default 200)
  --ring-capacity BYTES   buffering of the shared-memory rings (default 1M)
  --rounds N              interleaved rounds (default 5): every transport of a scenario runs once
                          per round; each ratio is the median of the per-round ratios, with the
                          spread (min-max over the rounds); absolute figures are the median round
  --repeat N              the same as --rounds N (older name)
  --instructions N        messages per loop of the instructions-per-message figure (callgrind on
                          stella-bench-instr; default 4096, at most 5000; 0 skips it)
  --no-pin                do not pin the writer and reader of 1:1 runs to CPUs 0 and 1
  --json FILE             write every result as JSON
  --markdown FILE         write the tables as Markdown (docs/benchmarks.md)
  --plot-dir DIR          write gnuplot data files (DIR/<scenario>/<transport>.dat)
  --list                  list the scenarios and transports, then exit
  --quiet                 no progress lines on stderr
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "stella-bench: " << message << "\n\n" << kUsage;
  std::exit(2);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::size_t parse_size(const std::string& text) {
  std::size_t pos = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &pos);
  } catch (const std::exception&) {
    usage_error("not a size: '" + text + "'");
  }
  const std::string unit = text.substr(pos);
  if (unit == "K" || unit == "k" || unit == "KiB") value <<= 10;
  else if (unit == "M" || unit == "MiB") value <<= 20;
  else if (!unit.empty() && unit != "B") usage_error("bad size unit in '" + text + "'");
  return static_cast<std::size_t>(value);
}

double parse_number(const std::string& text) {
  try {
    std::size_t pos = 0;
    const double v = std::stod(text, &pos);
    if (pos == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  usage_error("not a number: '" + text + "'");
}

}  // namespace

int main(int argc, char** argv) {
  SuiteOptions options;
  std::string json_path, markdown_path, plot_dir;
  bool list = false;
  std::size_t instruction_messages = 4096;
  std::vector<std::string> args(argv + 1, argv + argc);
  // --smoke first, so that explicit options given with it still win.
  for (const auto& a : args) {
    if (a == "--smoke") {
      options.smoke = true;
      options.duration = std::chrono::duration<double>(0.03);
      options.sizes = {8, 64, 4096, 65536};
      options.spin_latency_samples = 2000;
      options.sleep_latency_samples = 100;
      options.sleep_gap = std::chrono::microseconds(100);
      options.rounds = 2;
      instruction_messages = 1024;
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) usage_error(a + " needs a value");
      return args[++i];
    };
    if (a == "--smoke") continue;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--duration") options.duration = std::chrono::duration<double>(parse_number(value()));
    else if (a == "--sizes") {
      options.sizes.clear();
      for (const auto& s : split(value())) options.sizes.push_back(parse_size(s));
    } else if (a == "--scenario") options.scenario_filter = split(value());
    else if (a == "--transport") options.transport_filter = split(value());
    else if (a == "--latency-samples") options.spin_latency_samples = parse_size(value());
    else if (a == "--sleep-samples") options.sleep_latency_samples = parse_size(value());
    else if (a == "--sleep-gap") options.sleep_gap = std::chrono::microseconds(parse_size(value()));
    else if (a == "--ring-capacity") options.ring_capacity = parse_size(value());
    else if (a == "--no-pin") options.pin = false;
    else if (a == "--instructions") instruction_messages = std::min<std::size_t>(parse_size(value()), 5000);
    else if (a == "--rounds" || a == "--repeat") options.rounds = std::max(1, static_cast<int>(parse_size(value())));
    else if (a == "--json") json_path = value();
    else if (a == "--markdown") markdown_path = value();
    else if (a == "--plot-dir") plot_dir = value();
    else if (a == "--list") list = true;
    else if (a == "--quiet") options.verbose = false;
    else usage_error("unknown option " + a);
  }
  if (options.sizes.empty()) usage_error("--sizes is empty");

  const auto scenarios = stella::bench::make_scenarios(options);
  if (list) {
    for (const auto& s : scenarios) std::cout << "scenario  " << s.name << ": " << s.description << "\n";
    for (const auto& t : stella::bench::all_transports()) {
      std::cout << "transport " << t.name << " [" << stella::bench::to_string(t.kind) << "]: " << t.description << "\n";
    }
    return 0;
  }
  if (scenarios.empty()) usage_error("no scenario matches the filter");

  const auto machine = stella::bench::describe_machine();
  std::cerr << "stella-bench on " << machine.cpu_model << ", " << machine.cpus << " CPUs, " << machine.kernel
            << (options.smoke ? " (smoke)" : "") << "\n";
  const auto results = stella::bench::run_suite(options);
  stella::bench::Instructions instructions;
  if (instruction_messages == 0) {
    instructions.unavailable = "--instructions 0";
  } else {
    if (options.verbose) std::cerr << "  instructions per message: callgrind on stella-bench-instr\n";
    instructions = stella::bench::measure_instructions(instruction_messages);
  }
  stella::bench::print_table(std::cout, scenarios, results);
  stella::bench::print_instructions(std::cout, instructions);
  stella::bench::print_targets(std::cout, stella::bench::check_targets(results, instructions));

  auto write_file = [](const std::string& path, auto&& writer) {
    std::ofstream out(path);
    writer(out);
    if (!out) {
      std::cerr << "stella-bench: cannot write " << path << "\n";
      std::exit(1);
    }
  };
  if (!json_path.empty()) {
    write_file(json_path, [&](std::ostream& o) { stella::bench::write_json(o, machine, options, scenarios, results, instructions); });
  }
  if (!markdown_path.empty()) {
    write_file(markdown_path,
               [&](std::ostream& o) { stella::bench::write_markdown(o, machine, options, scenarios, results, instructions); });
  }
  if (!plot_dir.empty()) stella::bench::write_plot_data(plot_dir, results);

  int failures = 0;
  for (const auto& r : results) failures += r.failed ? 1 : 0;
  if (failures != 0) std::cerr << "stella-bench: " << failures << " run(s) failed\n";
  return failures == 0 ? 0 : 1;
}
