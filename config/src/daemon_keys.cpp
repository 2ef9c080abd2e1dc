// [daemon]: its keys, declared once, and its reader.
#include "checker.hpp"

namespace stella::config::detail {

struct DaemonReader : SectionReader {
  DaemonConfig d;
  bool allow_world_writable = false;
};

namespace {

using R = DaemonReader;

void read_socket(R& r, std::string_view key) {
  auto v = r.c.absolute_path(r.t, r.prefix, key);
  if (!v) return;
  if (v->native().size() > kMaxSocketPathLength) {
    r.c.add(r.at(key), r.path(key),
            "a Unix socket path has at most " + std::to_string(kMaxSocketPathLength) + " bytes, this one has " +
                std::to_string(v->native().size()));
  } else {
    r.d.socket = *v;
  }
}

template <std::uint32_t DaemonConfig::*Member>
void read_mode(R& r, std::string_view key) {
  if (auto v = r.c.mode(r.t, r.prefix, key)) {
    r.d.*Member = *v;
    check_world_writable(r.c, r.t, r.prefix, key, *v, r.allow_world_writable,
                         Member == &DaemonConfig::socket_mode ? "the socket" : "the segment directory");
  }
}

void read_allow_world_writable(R& r, std::string_view key) { (void)r.c.boolean(r.t, r.prefix, key); }

template <Duration DaemonConfig::*Member>
void read_duration(R& r, std::string_view key) {
  if (auto v = r.c.duration(r.t, r.prefix, key)) r.d.*Member = *v;
}

void read_log_level(R& r, std::string_view key) {
  if (auto v = r.c.choice_of<LogLevel>(r.t, r.prefix, key)) r.d.log_level = *v;
}

void read_stall_eviction(R& r, std::string_view key) {
  bool off = false;
  if (auto v = r.c.duration(r.t, r.prefix, key, true, &off)) r.d.stall_eviction = *v;
}

void read_lag_warning(R& r, std::string_view key) {
  if (auto v = r.c.lag(r.t, r.prefix, key)) r.d.lag_warning = *v;
}

void read_remove_on_exit(R& r, std::string_view key) {
  if (auto v = r.c.boolean(r.t, r.prefix, key)) r.d.remove_on_exit = *v;
}

template <std::optional<std::filesystem::path> DaemonConfig::*Member>
void read_path(R& r, std::string_view key) {
  if (auto v = r.c.absolute_path(r.t, r.prefix, key)) r.d.*Member = *v;
}

void read_metrics(R& r, std::string_view key) {
  auto v = r.c.string(r.t, r.prefix, key, "an address such as \"127.0.0.1:9464\", or \"off\"");
  if (!v || *v == "off") return;
  std::string why;
  if (auto a = parse_metrics_address(*v, &why)) {
    r.d.metrics = *a;
  } else {
    r.c.add(r.at(key), r.path(key), why);
  }
}

using D = DaemonConfig;
using enum ReloadRule;
// The order is the docs' and the order of "did you mean" candidates.
const std::array<DaemonKey, 16> kKeys{{
    {{"socket", "path", "`\"/run/stella/stellad.sock\"`", kAppliesAlways, restart}, read_socket, same_member<&D::socket>},
    {{"socket_mode", "mode", "`\"0660\"`", kAppliesAlways, restart}, read_mode<&D::socket_mode>,
     same_member<&D::socket_mode>},
    {{"allow_world_writable", "boolean", "`false`"}, read_allow_world_writable},
    {{"reap_interval", "duration", "`\"100ms\"`"}, read_duration<&D::reap_interval>, same_member<&D::reap_interval>},
    {{"log_level", "string", "`\"info\"`"}, read_log_level, same_member<&D::log_level>},
    {{"recovery_timeout", "duration", "`\"1s\"`"}, read_duration<&D::recovery_timeout>,
     same_member<&D::recovery_timeout>},
    {{"stall_eviction", "duration or `\"off\"`", "`\"off\"`"}, read_stall_eviction, same_member<&D::stall_eviction>},
    {{"lag_warning", "float or size", "`0.5`"}, read_lag_warning, same_member<&D::lag_warning>},
    {{"remove_on_exit", "boolean", "`false`"}, read_remove_on_exit, same_member<&D::remove_on_exit>},
    {{"lock_file", "path", "socket path + `\".lock\"`", kAppliesAlways, restart}, read_path<&D::lock_file>,
     same_member<&D::lock_file>},
    {{"pid_file", "path", "none", kAppliesAlways, restart}, read_path<&D::pid_file>, same_member<&D::pid_file>},
    {{"health_window", "duration", "`\"10s\"`"}, read_duration<&D::health_window>, same_member<&D::health_window>},
    {{"client_timeout", "duration", "`\"2s\"`"}, read_duration<&D::client_timeout>, same_member<&D::client_timeout>},
    {{"metrics", "address", "`\"off\"`", kAppliesAlways, restart}, read_metrics, same_member<&D::metrics>},
    {{"segment_dir", "path", "none", kAppliesAlways, restart}, read_path<&D::segment_dir>,
     same_member<&D::segment_dir>},
    {{"segment_dir_mode", "mode", "`\"0700\"`", kAppliesAlways, restart}, read_mode<&D::segment_dir_mode>,
     same_member<&D::segment_dir_mode>},
}};

}  // namespace

std::span<const DaemonKey> daemon_keys() { return kKeys; }

DaemonConfig read_daemon(Checker& c, const toml::table& t) {
  DaemonReader r{{c, t, "daemon", "[daemon]"}, {}, false};
  c.unknown_keys(t, r.prefix, key_names(Section::daemon), "[daemon]");
  // Read first, quietly (its own entry reports a wrong type): the modes depend on it.
  if (const auto* allow = t.get_as<bool>("allow_world_writable")) r.allow_world_writable = allow->get();
  for (const DaemonKey& key : kKeys) key.read(r, key.info.name);
  return std::move(r.d);
}

}  // namespace stella::config::detail
