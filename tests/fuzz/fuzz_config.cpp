// Fuzz target: the TOML config loader (issue 7).
//
// config::check never throws for a bad config: it returns the config or every problem.
// Whatever the text, it must not crash, hang or throw, a rejected config must come with
// at least one problem, and an accepted one must summarise and print without trouble.
// The same text is also fed to the value parsers shared with the command line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "stella/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const stella::config::CheckResult result = stella::config::check(text, "fuzz.toml");
  if (result.ok() != result.problems.empty()) std::abort();
  for (const stella::config::Problem& p : result.problems) {
    if (p.file != "fuzz.toml" || p.message.empty()) std::abort();
    (void)p.to_string();
  }
  if (result.ok()) {
    (void)stella::config::summary(*result.config);
    for (const auto& segment : result.config->segments) {
      if (segment.name.empty() || result.config->find(segment.name) == nullptr) std::abort();
      (void)stella::config::incompatible_change(segment, segment);
    }
    (void)stella::config::plan_reload(*result.config, *result.config);
  }
  // Short inputs double as size and duration literals ("64MiB", "100ms").
  if (size <= 64) {
    std::string why;
    if (auto bytes = stella::config::parse_size(text, &why)) (void)stella::config::format_size(*bytes);
    if (auto d = stella::config::parse_duration(text, &why)) (void)stella::config::format_duration(*d);
  }
  return 0;
}
