#include "instructions.hpp"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace stella::bench {
namespace {

namespace fs = std::filesystem;

std::string own_directory() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream in(path != nullptr ? path : "");
  for (std::string dir; std::getline(in, dir, ':');) {
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// "desc: Trigger: Client Request: <label>" and "totals: <Ir>" of one callgrind dump file.
bool parse_dump(const fs::path& file, std::string& label, double& ir) {
  std::ifstream in(file);
  const std::string trigger = "desc: Trigger: Client Request: ";
  bool have_label = false;
  bool have_total = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(trigger, 0) == 0) {
      label = line.substr(trigger.size());
      have_label = true;
    } else if (line.rfind("totals: ", 0) == 0) {
      ir = std::stod(line.substr(8));
      have_total = true;
    }
  }
  return have_label && have_total;
}

}  // namespace

const InstructionFigure* Instructions::find(const std::string& transport, const std::string& api) const {
  for (const auto& f : figures) {
    if (f.transport == transport && f.api == api) return &f;
  }
  return nullptr;
}

Instructions measure_instructions(std::size_t messages) {
  Instructions result;
  result.messages = messages;
  const fs::path tool = fs::path(own_directory()) / "stella-bench-instr";
  if (::access(tool.c_str(), X_OK) != 0) {
    result.unavailable = "stella-bench-instr was not built (no valgrind/callgrind.h when configuring)";
    return result;
  }
  if (!on_path("valgrind")) {
    result.unavailable = "valgrind is not installed (scripts/install-deps.sh installs it)";
    return result;
  }
  char pattern[] = "/tmp/stella-bench-instr.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    result.unavailable = "cannot create a temporary directory";
    return result;
  }
  const fs::path dir = pattern;
  result.command = "valgrind --tool=callgrind --collect-atstart=no " + tool.filename().string() + " " +
                   std::to_string(messages);
  const std::string command = "valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=" +
                              (dir / "cg.out").string() + " " + tool.string() + " " + std::to_string(messages) +
                              " >" + (dir / "log").string() + " 2>&1";
  const int status = std::system(command.c_str());
  std::map<std::string, double> ir;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string label;
    double value = 0;
    if (entry.path().filename().string().rfind("cg.out.", 0) == 0 && parse_dump(entry.path(), label, value)) {
      ir[label] = value;
    }
  }
  if (status != 0 || ir.empty()) {
    std::ifstream log(dir / "log");
    std::string last, line;
    while (std::getline(log, line)) {
      if (!line.empty()) last = line;
    }
    result.unavailable = "callgrind run failed (status " + std::to_string(status) + "): " + last;
  }
  fs::remove_all(dir, ec);
  if (result.unavailable) return result;
  for (const char* transport : {"spsc-ring", "stella-block", "stella-overwrite"}) {
    for (const char* api : {"copy", "zero-copy"}) {
      InstructionFigure f{transport, api};
      const std::string prefix = std::string(transport) + ":" + api + ":";
      if (auto it = ir.find(prefix + "write"); it != ir.end()) f.write_ir = it->second / static_cast<double>(messages);
      if (auto it = ir.find(prefix + "read"); it != ir.end()) f.read_ir = it->second / static_cast<double>(messages);
      result.figures.push_back(f);
    }
  }
  return result;
}

}  // namespace stella::bench
