// The subcommands of `stella`, one function each, called by the thin main (CLI11). Each
// returns the process's exit status (see ExitCode) and prints its own errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "payload.hpp"

namespace stella::tools {

/// The exit statuses of `stella` (also in `stella --help` and the README).
enum ExitCode : int {
  kOk = 0,
  kFailed = 1,    // the operation failed: no such segment, cannot open, write timed out, ...
  kUsage = 2,     // bad command line or bad input (a MESSAGE that is not valid hex or JSON)
  kRefused = 3,   // rm: the segment is stellad's (pass --force)
  kPartial = 4,   // tail/get: something was shown, but some messages could not be decoded
};

struct DaemonOptions {
  std::optional<std::filesystem::path> socket;
  std::optional<std::filesystem::path> config;
  std::chrono::milliseconds timeout{500};
};

struct LsOptions {
  bool json = false;
  DaemonOptions daemon;
};
int cmd_ls(const LsOptions& o);

struct TailOptions {
  std::string ring;
  bool from_latest = false;
  bool follow = false;
  Format format = Format::text;
  std::optional<std::uint64_t> count;
  bool quiet = false;  // no note on stderr about the reader slot
  bool peek = false;   // no reader slot: ring::RingPeeker over a read-only mapping
};
/// --peek: the longest sleep between polls while waiting for messages (a peeker is not
/// counted among the sleeping readers, so writers never wake it).
inline constexpr std::chrono::milliseconds kPeekPoll{10};
int cmd_tail(const TailOptions& o);

struct PutOptions {
  std::string ring;
  Format format = Format::text;
  std::vector<std::string> messages;  // none: one message per stdin line
  std::chrono::milliseconds timeout{5000};  // Block rings: longest wait for space per message
};
int cmd_put(const PutOptions& o);

struct GetOptions {
  std::string blob;
  Format format = Format::raw;
};
int cmd_get(const GetOptions& o);

struct SetOptions {
  std::string blob;
  Format format = Format::raw;
  std::optional<std::string> value;  // none: all of stdin
};
int cmd_set(const SetOptions& o);

struct RmOptions {
  std::vector<std::string> names;
  bool force = false;
  DaemonOptions daemon;
};
int cmd_rm(const RmOptions& o);

struct StatOptions {
  std::string ring;
  bool json = false;
};
int cmd_stat(const StatOptions& o);

struct HzOptions {
  std::string ring;
  std::chrono::milliseconds interval{1000};
  std::optional<std::uint64_t> count;  // samples; none: until interrupted
  bool json = false;
};
int cmd_hz(const HzOptions& o);

}  // namespace stella::tools
