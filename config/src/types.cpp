// The small behaviours of the config's types: effective values, platform permissions,
// problems and the error that carries them.
#include <cmath>

#include "stella/config/config.hpp"

namespace stella::config {

std::uint64_t LagThreshold::bytes_for(std::uint64_t capacity) const noexcept {
  if (unit == Unit::bytes) return bytes;
  return static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(capacity)));
}

std::filesystem::path DaemonConfig::effective_lock_file() const {
  if (lock_file) return *lock_file;
  std::filesystem::path path = socket;
  path += ".lock";
  return path;
}

platform::Permissions SegmentConfig::platform_permissions() const {
  platform::Permissions perms;
  perms.mode = permissions;
  if (owner) perms.uid = owner->id;
  if (group) perms.gid = group->id;
  if (reader_group) perms.reader_gid = reader_group->id;
  if (writer_group) perms.writer_gid = writer_group->id;
  // A blob is written by writers only. A ring's readers still write their slots into the
  // ring itself, so both groups need read-write on it until those move to a companion object.
  perms.written_by =
      kind == SegmentKind::blob ? platform::ObjectWriters::writers : platform::ObjectWriters::writers_and_readers;
  perms.allow_world_writable = allow_world_writable;
  return perms;
}

LagThreshold SegmentConfig::effective_lag_warning(const DaemonConfig& daemon) const {
  return lag_warning.value_or(daemon.lag_warning);
}

const SegmentConfig* Config::find(std::string_view name) const noexcept {
  for (const SegmentConfig& s : segments) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string Problem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

namespace {
std::string join_problems(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.to_string();
  }
  return out;
}
}  // namespace

ConfigError::ConfigError(std::vector<Problem> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

}  // namespace stella::config
