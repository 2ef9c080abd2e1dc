// Instructions per message written and read (a figure no neighbour's load can move):
// stella-bench runs stella-bench-instr (instr_main.cpp) under valgrind's callgrind and
// divides each measured loop's instruction count by its messages.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace stella::bench {

struct InstructionFigure {
  std::string transport;  // "spsc-ring", "stella-block", "stella-overwrite"
  std::string api;        // "copy" or "zero-copy"
  double write_ir = -1;   // instructions per message written (-1: not measured)
  double read_ir = -1;    // instructions per message read
};

struct Instructions {
  std::optional<std::string> unavailable;  // why nothing was measured
  std::size_t messages = 0;                // per measured loop
  std::string command;
  std::vector<InstructionFigure> figures;
  [[nodiscard]] const InstructionFigure* find(const std::string& transport, const std::string& api) const;
};

/// Runs stella-bench-instr (next to this executable) under callgrind, `messages` per loop.
Instructions measure_instructions(std::size_t messages);

}  // namespace stella::bench
