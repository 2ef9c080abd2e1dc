// The catalogue of bad configs: every config/bad/*.toml starts with one comment line per
// expected problem, "# expect: LINE:COLUMN: <substring>", where the substring must occur
// in "key: message". The file must produce exactly those problems, no more. The shipped
// example config must be valid.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "stella/config/config.hpp"

namespace fs = std::filesystem;
using namespace stella::config;

namespace {

const fs::path kConfigDir = STELLA_CONFIG_DIR;

struct Expectation {
  int line = 0;
  int column = 0;
  std::string fragment;
};

std::vector<Expectation> expectations_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<Expectation> out;
  std::string text;
  const std::string prefix = "# expect: ";
  while (std::getline(in, text) && text.rfind(prefix, 0) == 0) {
    Expectation e;
    const std::string rest = text.substr(prefix.size());
    const auto colon1 = rest.find(':');
    const auto colon2 = rest.find(": ", colon1 + 1);
    REQUIRE_MESSAGE(colon1 != std::string::npos, file.string(), ": bad expect line: ", text);
    REQUIRE_MESSAGE(colon2 != std::string::npos, file.string(), ": bad expect line: ", text);
    e.line = std::stoi(rest.substr(0, colon1));
    e.column = std::stoi(rest.substr(colon1 + 1, colon2 - colon1 - 1));
    e.fragment = rest.substr(colon2 + 2);
    out.push_back(e);
  }
  return out;
}

std::vector<fs::path> bad_configs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kConfigDir / "bad")) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("config_catalogue: every bad config yields exactly its expected problems") {
  const auto files = bad_configs();
  REQUIRE(files.size() >= 20);
  for (const fs::path& file : files) {
    CAPTURE(file.string());
    const auto expected = expectations_of(file);
    REQUIRE_MESSAGE(!expected.empty(), "a catalogue file must start with # expect: lines");
    const auto problems = check_file(file);
    std::string all;
    for (const Problem& p : problems) all += p.to_string() + "\n";
    INFO(all);
    CHECK(problems.size() == expected.size());
    for (const Expectation& e : expected) {
      CAPTURE(e.line);
      CAPTURE(e.column);
      CAPTURE(e.fragment);
      const bool found = std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
        return p.file == file.string() && p.line == e.line && p.column == e.column &&
               (p.key.empty() ? p.message : p.key + ": " + p.message).find(e.fragment) != std::string::npos;
      });
      CHECK(found);
    }
    CHECK_THROWS_AS((void)load_file(file), ConfigError);
  }
}

TEST_CASE("config_example: the shipped example config is valid") {
  const fs::path example = kConfigDir / "stella.example.toml";
  const auto problems = check_file(example);
  std::string all;
  for (const Problem& p : problems) all += p.to_string() + "\n";
  INFO(all);
  REQUIRE(problems.empty());
  const Config c = load_file(example);
  REQUIRE(c.segments.size() == 3);
  const SegmentConfig* telemetry = c.find("telemetry");
  REQUIRE(telemetry != nullptr);
  CHECK(telemetry->kind == SegmentKind::ring);
  CHECK(telemetry->mode == RingMode::overwrite);
  CHECK(telemetry->capacity == 64ULL << 20);
  const SegmentConfig* events = c.find("events");
  REQUIRE(events != nullptr);
  CHECK(events->kind == SegmentKind::ring);
  CHECK(events->mode == RingMode::block);
  const SegmentConfig* settings = c.find("settings");
  REQUIRE(settings != nullptr);
  CHECK(settings->kind == SegmentKind::blob);
  // Nothing in the example is world-writable.
  CHECK((c.daemon.socket_mode & 0002U) == 0);
  for (const SegmentConfig& s : c.segments) CHECK((s.permissions & 0002U) == 0);
  CHECK_FALSE(summary(c).empty());
}

TEST_CASE("config_robustness: mutated and truncated configs never throw, and every problem has a place") {
  std::ifstream in(kConfigDir / "stella.example.toml", std::ios::binary);
  const std::string example((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!example.empty());
  // A fixed seed keeps failures reproducible; the fuzzer (later) goes much further.
  std::uint64_t state = 0x5eed5eed12345678ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char alphabet[] = "=[]\"'#.,{}0123456789abcMiBms \n\t\\\x00\xff";
  for (int round = 0; round < 3000; ++round) {
    std::string text = example;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = next() % text.size();
      switch (next() % 3) {
        case 0: text[at] = alphabet[next() % (sizeof(alphabet) - 1)]; break;
        case 1: text.erase(at, 1 + next() % 8); break;
        default: text.resize(at); break;
      }
    }
    CAPTURE(round);
    CheckResult result;
    REQUIRE_NOTHROW(result = check(text, "fuzz.toml"));
    CHECK(result.ok() == result.problems.empty());
    for (const Problem& p : result.problems) {
      CHECK(p.file == "fuzz.toml");
      CHECK(p.line >= 1);
      CHECK(p.column >= 1);
      CHECK(!p.message.empty());
    }
  }
}
