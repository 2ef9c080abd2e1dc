// Helpers for the config tests: check a TOML text and look for a problem by position.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "stella/config/config.hpp"

namespace stella::config::test {

inline std::vector<Problem> problems_of(std::string_view text) { return check_string(text, "t.toml"); }

inline std::string dump(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) out += p.to_string() + "\n";
  return out;
}

/// The text must yield exactly one problem, at line:column, under `key`, whose message
/// contains `fragment`.
inline void expect_only(std::string_view text, int line, int column, std::string_view key, std::string_view fragment) {
  const auto problems = problems_of(text);
  INFO(dump(problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == "t.toml");
  CHECK(problems[0].line == line);
  CHECK(problems[0].column == column);
  CHECK(problems[0].key == key);
  CHECK(problems[0].message.find(fragment) != std::string::npos);
}

/// A valid config from `text` (fails the test with every problem otherwise).
inline Config load_ok(std::string_view text) {
  auto result = check(text, "t.toml");
  INFO(dump(result.problems));
  REQUIRE(result.ok());
  return std::move(*result.config);
}

}  // namespace stella::config::test
