// The schema as data (stella/config/schema.hpp): the docs' key tables agree with it, and
// every key takes part in the reload rules.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "config_test_util.hpp"
#include "stella/config/enum_names.hpp"
#include "stella/config/schema.hpp"

using namespace stella::config;
using stella::config::test::load_ok;

namespace {

struct DocRow {
  std::string type, default_text, applies;
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The rows of the key table under the heading `heading` of docs/configuration.md, by key.
std::map<std::string, DocRow> doc_table(const std::string& heading) {
  std::ifstream in(STELLA_DOCS_DIR "/configuration.md");
  REQUIRE(in);
  std::map<std::string, DocRow> rows;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      inside = line == heading;
      continue;
    }
    if (!inside || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream cut(line.substr(1));
    while (std::getline(cut, cell, '|')) cells.push_back(trim(cell));
    REQUIRE(cells.size() >= 4);
    const std::string key = cells[0].substr(1, cells[0].size() - 2);  // `key`
    rows[key] = {cells[1], cells[2], cells.size() >= 5 ? cells[3] : std::string()};
  }
  return rows;
}

void check_section(Section section, const std::string& heading, bool has_applies) {
  const auto rows = doc_table(heading);
  INFO("docs/configuration.md, " << heading);
  CHECK(rows.size() == schema_keys(section).size());
  for (const KeyInfo& key : schema_keys(section)) {
    const std::string name(key.name);
    INFO("key " << name);
    const auto row = rows.find(name);
    REQUIRE_MESSAGE(row != rows.end(), "the docs have no row for a key of the schema");
    CHECK(row->second.type == key.type);
    CHECK(row->second.default_text == key.default_text);
    if (has_applies) CHECK(row->second.applies == applies_text(key.applies));
  }
}

}  // namespace

TEST_CASE("config_schema: the docs' key tables are the schema's") {
  check_section(Section::top, "## Top level", false);
  check_section(Section::daemon, "## `[daemon]`", false);
  check_section(Section::segment, "## `[[segment]]`", true);
  check_section(Section::bridge, "## `[[bridge]]`", true);
}

TEST_CASE("config_schema: every enum's names parse back to their values") {
  for (const auto& e : kLogLevelNames) CHECK(enum_from_name<LogLevel>(to_string(e.value)) == e.value);
  for (const auto& e : kRingModeNames) CHECK(enum_from_name<RingMode>(to_string(e.value)) == e.value);
  for (const auto& e : kRemovePolicyNames) CHECK(enum_from_name<RemovePolicy>(to_string(e.value)) == e.value);
  for (const auto& e : kBridgeStartNames) CHECK(enum_from_name<BridgeStart>(to_string(e.value)) == e.value);
  CHECK(to_string(LogLevel::critical) == "critical");
  CHECK(to_string(RemovePolicy::when_unused) == "when-unused");
  CHECK_FALSE(enum_from_name<LogLevel>("verbose").has_value());
}

TEST_CASE("config_schema: a change of any [[segment]] key is seen by a reload") {
  // One changed value per key (a ring, so that ring-only keys apply). A key added to the
  // schema without a line here fails the first check.
  const std::map<std::string, std::string> changed = {
      {"name", "name = \"other\""},           {"kind", "kind = \"blob\""},
      {"capacity", "capacity = \"2MiB\""},     {"mode", "mode = \"block\""},
      {"max_readers", "max_readers = 3"},      {"max_writers", "max_writers = 3"},
      {"permissions", "permissions = \"0640\""},
      {"allow_world_writable", "allow_world_writable = true"},
      {"owner", "owner = 0"},                  {"group", "group = 0"},
      {"reader_group", "reader_group = 0"},    {"writer_group", "writer_group = 0"},
      {"remove", "remove = \"immediately\""},  {"lag_warning", "lag_warning = 0.25"},
      {"schema", "schema = \"market.Quote@2\""},
  };
  CHECK(changed.size() == schema_keys(Section::segment).size());
  const std::map<std::string, std::string> base = {{"name", "name = \"r\""}, {"kind", "kind = \"ring\""},
                                                   {"capacity", "capacity = \"1MiB\""}};
  auto segment_with = [&](const std::string& key) {
    std::string text = "version = 1\n[[segment]]\n";
    for (const auto& [k, v] : base) {
      if (k != key) text += v + "\n";
    }
    text += changed.at(key) + "\n";
    return load_ok(text).segments.at(0);
  };
  std::string text = "version = 1\n[[segment]]\n";
  for (const auto& [k, v] : base) text += v + "\n";
  const SegmentConfig live = load_ok(text).segments.at(0);
  for (const KeyInfo& key : schema_keys(Section::segment)) {
    const std::string name(key.name);
    INFO("key " << name);
    REQUIRE(changed.count(name) == 1);
    const SegmentConfig proposed = segment_with(name);
    CHECK_FALSE(same_settings(live, proposed));
    if (name != "name") CHECK(incompatible_change(live, proposed).has_value() == (key.reload == ReloadRule::recreate));
  }
}

TEST_CASE("config_schema: a change of any [[bridge]] key makes another bridge") {
  const std::string head = "version = 1\n[[segment]]\nname = \"r\"\nkind = \"ring\"\ncapacity = \"1MiB\"\n[[bridge]]\n";
  const std::string in_js = "segment = \"r\"\ndirection = \"in\"\nsubject = \"a.b\"\njetstream = true\nstream = \"S\"\n";
  const std::string out_js = "segment = \"r\"\ndirection = \"out\"\nsubject = \"a.b\"\njetstream = true\nstream = \"S\"\n";
  // (base, the same base with one key changed) for every key.
  const std::map<std::string, std::pair<std::string, std::string>> changed = {
      {"name", {in_js, in_js + "name = \"x\""}},
      {"segment", {in_js, "segment = \"r2\"\ndirection = \"in\"\nsubject = \"a.b\"\njetstream = true\nstream = \"S\"\n"}},
      {"direction", {in_js, out_js}},
      {"subject", {in_js, "segment = \"r\"\ndirection = \"in\"\nsubject = \"a.c\"\njetstream = true\nstream = \"S\"\n"}},
      {"url", {in_js, in_js + "url = \"nats://127.0.0.2:4222\""}},
      {"jetstream", {in_js, "segment = \"r\"\ndirection = \"in\"\nsubject = \"a.b\"\n"}},
      {"stream", {in_js, "segment = \"r\"\ndirection = \"in\"\nsubject = \"a.b\"\njetstream = true\nstream = \"T\"\n"}},
      {"replicas", {in_js, in_js + "replicas = 3"}},
      {"durable", {in_js, in_js + "durable = \"d\""}},
      {"start", {out_js, out_js + "start = \"latest\""}},
      {"ack_timeout", {out_js, out_js + "ack_timeout = \"1s\""}},
      {"max_in_flight", {out_js, out_js + "max_in_flight = 7"}},
      {"batch", {in_js, in_js + "batch = 7"}},
      {"write_timeout", {in_js, in_js + "write_timeout = \"2s\""}},
      {"reconnect_wait", {in_js, in_js + "reconnect_wait = \"1s\""}},
      {"max_reconnect_wait", {in_js, in_js + "max_reconnect_wait = \"9s\""}},
  };
  CHECK(changed.size() == schema_keys(Section::bridge).size());
  const std::string r2 = "[[segment]]\nname = \"r2\"\nkind = \"ring\"\ncapacity = \"1MiB\"\n";
  for (const KeyInfo& key : schema_keys(Section::bridge)) {
    const std::string name(key.name);
    INFO("key " << name);
    REQUIRE(changed.count(name) == 1);
    const auto& [before, after] = changed.at(name);
    const BridgeConfig a = load_ok(head + before + "\n" + r2).bridges.at(0);
    const BridgeConfig b = load_ok(head + after + "\n" + r2).bridges.at(0);
    CHECK_FALSE(a == b);
    CHECK(a == load_ok(head + before + "\n" + r2).bridges.at(0));
  }
}
