// Loading: the whole document, section by section (daemon_keys.cpp, segment_keys.cpp,
// bridge_keys.cpp), then the rules across sections (unique names, bridges to rings of this
// config). Every problem is collected; a Config is only produced when there is none.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <iterator>
#include <map>

#include "checker.hpp"

namespace stella::config {

namespace {

using namespace detail;

// Bridges refer to segments: after both are read, each bridge must name a ring of this
// config, and bridge names must be unique.
void check_bridges(Checker& c, const toml::table& root, const toml::array& array, Config& config) {
  // Segment names and kinds as written, so that a segment with a problem of its own (and
  // so absent from config.segments) is not also reported as missing here.
  std::map<std::string, std::string, std::less<>> kinds;
  if (const auto* segments = root.get_as<toml::array>("segment")) {
    for (const toml::node& n : *segments) {
      const auto* t = n.as_table();
      if (t == nullptr) continue;
      const auto* name = t->get_as<std::string>("name");
      const auto* kind = t->get_as<std::string>("kind");
      if (name != nullptr) kinds.try_emplace(name->get(), kind != nullptr ? kind->get() : std::string());
    }
  }
  std::map<std::string, std::pair<std::size_t, Location>, std::less<>> seen;
  std::size_t next = 0;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto* t = array.get(i)->as_table();
    if (t == nullptr) continue;
    const std::string prefix = "bridge[" + std::to_string(i) + "]";
    const bool have = next < config.bridges.size() && config.bridges[next].location == location_of(t->source());
    if (const toml::node* seg = t->get("segment"); seg != nullptr && seg->is_string()) {
      const std::string& name = seg->as_string()->get();
      const auto kind = kinds.find(name);
      if (kind == kinds.end()) {
        c.add(location_of(seg->source()), prefix + ".segment",
              "no [[segment]] named " + in_quotes(name) + " in this config (a bridge needs a ring that stellad owns)");
      } else if (kind->second == "blob") {
        c.add(location_of(seg->source()), prefix + ".segment",
              "segment " + in_quotes(name) + " is a blob; only rings can be bridged");
      }
    }
    if (!have) continue;
    BridgeConfig& b = config.bridges[next++];
    const toml::node* name_node = t->get("name");
    const Location here = name_node != nullptr ? location_of(name_node->source()) : b.location;
    auto [it, inserted] = seen.try_emplace(b.name, i, here);
    if (!inserted) {
      const auto& [first_index, first] = it->second;
      c.add(here, prefix + ".name",
            "duplicate bridge name " + in_quotes(b.name) + " (first at " + c.file() + ":" + std::to_string(first.line) +
                ":" + std::to_string(first.column) + " as bridge[" + std::to_string(first_index) +
                "]; give one of them a distinct name = \"...\")");
    }
  }
}

Config validate(Checker& c, const toml::table& root) {
  Config config;
  config.source = c.file();
  c.unknown_keys(root, "", key_names(Section::top), "the top level");

  // The root table has no header; problems about it point at the start of the file.
  const Location file_start{1, 1};
  if (const toml::node* node = root.get("version")) {
    if (const auto* i = node->as_integer()) {
      if (i->get() != kSupportedVersion) {
        c.add(location_of(node->source()), "version",
              "unsupported config version " + std::to_string(i->get()) + " (this stellad reads version " +
                  std::to_string(kSupportedVersion) + ")");
      }
    } else {
      c.wrong_type(*node, "version", "an integer (" + std::to_string(kSupportedVersion) + ")");
    }
  } else {
    c.add(file_start, "version",
          "missing required key \"version\" (add `version = " + std::to_string(kSupportedVersion) +
              "` at the top of the file)");
  }

  if (const toml::node* node = root.get("daemon")) {
    if (const auto* t = node->as_table()) {
      config.daemon = read_daemon(c, *t);
    } else {
      c.wrong_type(*node, "daemon", "a table ([daemon])");
    }
  }

  if (const toml::node* node = root.get("segment")) {
    if (node->is_table()) {
      c.add(location_of(node->source()), "segment",
            "\"segment\" is a single table; declare each segment with [[segment]] (an array of tables), not [segment]");
    } else if (const auto* array = node->as_array()) {
      // name -> where it was first defined, for duplicate reports that name both places.
      std::map<std::string, std::pair<std::size_t, Location>, std::less<>> seen;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const auto* t = element.as_table();
        if (t == nullptr) {
          c.wrong_type(element, "segment[" + std::to_string(i) + "]", "a table ([[segment]])");
          continue;
        }
        auto segment = read_segment(c, *t, i);
        // Duplicates are checked on the raw name so they are reported even when the
        // segment has other problems.
        const toml::node* name_node = t->get("name");
        if (name_node != nullptr && name_node->is_string()) {
          const std::string& name = name_node->as_string()->get();
          const Location here = location_of(name_node->source());
          auto [it, inserted] = seen.try_emplace(name, i, here);
          if (!inserted) {
            const auto& [first_index, first] = it->second;
            c.add(here, "segment[" + std::to_string(i) + "].name",
                  "duplicate segment name " + in_quotes(name) + " (first defined at " + c.file() + ":" +
                      std::to_string(first.line) + ":" + std::to_string(first.column) + " as segment[" +
                      std::to_string(first_index) + "].name)");
            continue;
          }
        }
        if (segment) config.segments.push_back(std::move(*segment));
      }
    } else {
      c.wrong_type(*node, "segment", "an array of tables ([[segment]])");
    }
  }

  if (const toml::node* node = root.get("bridge")) {
    if (node->is_table()) {
      c.add(location_of(node->source()), "bridge",
            "\"bridge\" is a single table; declare each bridge with [[bridge]] (an array of tables), not [bridge]");
    } else if (const auto* array = node->as_array()) {
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const auto* t = element.as_table();
        if (t == nullptr) {
          c.wrong_type(element, "bridge[" + std::to_string(i) + "]", "a table ([[bridge]])");
          continue;
        }
        if (auto bridge = read_bridge(c, *t, i)) config.bridges.push_back(std::move(*bridge));
      }
      check_bridges(c, root, *array, config);
    } else {
      c.wrong_type(*node, "bridge", "an array of tables ([[bridge]])");
    }
  }
  return config;
}

CheckResult check_parsed(Checker& c, const toml::table& root) {
  CheckResult result;
  Config config = validate(c, root);
  if (c.clean()) {
    result.config = std::move(config);
  } else {
    result.problems = c.take();
  }
  return result;
}

CheckResult syntax_error(Checker& c, const toml::parse_error& e) {
  c.add(location_of(e.source()), "", "TOML syntax error: " + std::string(e.description()));
  return {std::nullopt, c.take()};
}

std::string errno_text(int err) { return std::strerror(err); }

Config take_or_throw(CheckResult result) {
  if (!result.ok()) throw ConfigError(std::move(result.problems));
  return std::move(*result.config);
}

}  // namespace

CheckResult check(std::string_view text, std::string source_name) {
  Checker c(source_name);
  try {
    // toml++ keeps its own copy of the source name for node locations.
    const toml::table parsed = toml::parse(text, std::string_view(source_name));
    return check_parsed(c, parsed);
  } catch (const toml::parse_error& e) {
    return syntax_error(c, e);
  }
}

CheckResult check_path(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return {std::nullopt, {{name, 0, 0, "", "cannot read the config: it is a directory"}}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return {std::nullopt, {{name, 0, 0, "", "cannot read the config: " + errno_text(err)}}};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    const int err = errno;
    return {std::nullopt, {{name, 0, 0, "", "cannot read the config: " + errno_text(err)}}};
  }
  return check(text, name);
}

std::vector<Problem> check_file(const std::filesystem::path& path) { return check_path(path).problems; }

std::vector<Problem> check_string(std::string_view text, std::string source_name) {
  return check(text, std::move(source_name)).problems;
}

Config load_file(const std::filesystem::path& path) { return take_or_throw(check_path(path)); }

Config load_string(std::string_view text, std::string source_name) {
  return take_or_throw(check(text, std::move(source_name)));
}

Config load_stream(std::istream& in, std::string source_name) {
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_string(text, std::move(source_name));
}

}  // namespace stella::config
