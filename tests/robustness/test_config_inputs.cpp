// Catalogue: config errors (docs/robustness.md, "Configuration"). The precise message of
// every bad config in config/bad/ is pinned by tests/config (config_catalogue_test); here:
// every file of that catalogue is refused with at least one located problem, and the
// inputs the fuzzer found to reach undefined behaviour inside toml++ 3.3.0 (upstream
// marzer/tomlplusplus#295, tests/fuzz/known/fuzz_config/) are refused as syntax errors by
// the packaged library that stellad links.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "stella/config/config.hpp"

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("every config of the bad-config catalogue is refused with located problems") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(STELLA_CONFIG_BAD_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    CAPTURE(entry.path().filename().string());
    const auto result = stella::config::check_path(entry.path());
    CHECK_FALSE(result.ok());
    REQUIRE_FALSE(result.problems.empty());
    for (const auto& p : result.problems) {
      CHECK(p.line > 0);
      CHECK(p.column > 0);
      CHECK_FALSE(p.message.empty());
    }
  }
  CHECK(files >= 20);
}

TEST_CASE("non-ASCII bytes that reach toml++ 3.3.0's unreachable path: a clean syntax error") {
  const std::filesystem::path dir = std::filesystem::path(STELLA_FUZZ_DIR) / "known" / "fuzz_config";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    CAPTURE(entry.path().filename().string());
    const auto result = stella::config::check(slurp(entry.path()), "known.toml");
    CHECK_FALSE(result.ok());
    REQUIRE_FALSE(result.problems.empty());
    CHECK(result.problems.front().line == 1);
  }
  CHECK(files == 3);
}

TEST_CASE("an unreadable config: a problem without position, never an exception") {
  const auto missing = stella::config::check_path("/nonexistent/stella.toml");
  REQUIRE(missing.problems.size() == 1);
  CHECK(missing.problems[0].to_string() == "/nonexistent/stella.toml: cannot read the config: No such file or directory");
  const auto dir = stella::config::check_path("/");
  REQUIRE(dir.problems.size() == 1);
  CHECK(dir.problems[0].to_string() == "/: cannot read the config: it is a directory");
}
