// stella: the command people run against segments. A thin main: CLI11 parses, commands.cpp
// does the work. `stella --help` and `stella <command> --help` are the reference.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.hpp"
#include "stella/config/config.hpp"
#include "stella/version.hpp"

namespace {

using namespace stella::tools;

constexpr const char* kFooter =
    "Exit status: 0 done; 1 the operation failed (no such segment, cannot open, a Block ring stayed full);\n"
    "2 bad command line or input; 3 rm refused a segment stellad owns (use --force); 4 tail/get showed\n"
    "something but some messages could not be decoded.\n"
    "Works with or without stellad. Segments are /dev/shm/stella.<name>.";

// CLI11 validator and transform for durations written as the config writes them ("250ms", "2s").
std::chrono::milliseconds to_ms(const std::string& text) {
  std::string why;
  const auto d = stella::config::parse_duration(text, &why);
  if (!d) throw CLI::ValidationError("duration", why);
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

CLI::Validator duration_check() {
  return CLI::Validator(
      [](std::string& s) {
        std::string why;
        return stella::config::parse_duration(s, &why) ? std::string() : why;
      },
      "DURATION");
}

CLI::Validator format_check(std::initializer_list<std::string> allowed) {
  return CLI::IsMember(std::vector<std::string>(allowed));
}

Format format_of(const std::string& name) { return parse_format(name).value_or(Format::text); }

void add_daemon_options(CLI::App* cmd, std::string& socket, std::string& config) {
  cmd->add_option("--socket", socket, "stellad's status socket (default: $STELLA_SOCKET or /run/stella/stellad.sock)");
  cmd->add_option("-c,--config", config, "stellad's config: its socket, and the segments it declares");
}

DaemonOptions daemon_options(const std::string& socket, const std::string& config) {
  DaemonOptions d;
  if (!socket.empty()) d.socket = socket;
  if (!config.empty()) d.config = config;
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stella: look at and work with Stella's shared-memory segments on this host."};
  app.set_version_flag("--version", "stella " + std::string(stella::version()));
  app.require_subcommand(1);
  app.footer(kFooter);

  std::string socket, config;

  LsOptions ls;
  auto* ls_cmd = app.add_subcommand("ls", "List every Stella segment on this host: name, kind, capacity, mode, owner and "
                                          "mode, writers and readers (live, +dead), write position, messages, and "
                                          "whether stellad owns it");
  ls_cmd->add_flag("--json", ls.json, "JSON for tools");
  add_daemon_options(ls_cmd, socket, config);

  TailOptions tail;
  std::string tail_from = "oldest", tail_format = "text";
  std::uint64_t tail_count = 0;
  auto* tail_cmd = app.add_subcommand("tail", "Print a ring's messages as they arrive. An ordinary reader: it takes one "
                                              "of the ring's reader slots while it runs (on a Block ring, writers wait "
                                              "for it like for any reader); with --peek it takes none");
  tail_cmd->add_option("ring", tail.ring, "The ring")->required();
  tail_cmd->add_option("--from", tail_from, "Start at the oldest message still in the ring, or only new ones")
      ->check(CLI::IsMember({"oldest", "latest"}))->capture_default_str();
  tail_cmd->add_flag("-f,--follow", tail.follow, "Keep waiting for messages (until Ctrl-C or --count)");
  tail_cmd->add_option("--format", tail_format,
                       "text (control bytes escaped), hex, json, msgpack (shown as JSON-like text), log (records of "
                       "stella/spdlog_sink.hpp, as a log file has them)")
      ->check(format_check({"text", "hex", "json", "msgpack", "log"}))->capture_default_str();
  tail_cmd->add_option("-n,--count", tail_count, "Stop after this many messages");
  tail_cmd->add_flag("-q,--quiet", tail.quiet, "No note about the reader slot on stderr");
  tail_cmd->add_flag("--peek", tail.peek,
                     "Take no reader slot and write nothing into the ring (it is mapped read-only): writers never "
                     "wait for it, on a Block ring either. It reads like an Overwrite reader that may be lapped: what "
                     "writers overwrite (or have reserved to overwrite) before it reads it is skipped and counted as "
                     "lost; it never prints a torn message. Writers do not wake a "
                     "peeker: -f polls, sleeping at most 10 ms between checks");

  PutOptions put;
  std::string put_format = "text", put_timeout = "5s";
  auto* put_cmd = app.add_subcommand("put", "Write messages into a ring: each MESSAGE argument, or else one message per "
                                            "line of stdin. Takes a writer slot while it runs");
  put_cmd->add_option("ring", put.ring, "The ring")->required();
  put_cmd->add_option("message", put.messages, "Messages (none: read stdin, one per line)");
  put_cmd->add_option("--format", put_format, "text (as is), json (validated), hex (decoded; spaces ignored)")
      ->check(format_check({"text", "json", "hex"}))->capture_default_str();
  put_cmd->add_option("--timeout", put_timeout, "Block rings: the longest wait for space per message")
      ->check(duration_check())->capture_default_str();

  GetOptions get;
  std::string get_format = "raw";
  auto* get_cmd = app.add_subcommand("get", "Print a blob's value");
  get_cmd->add_option("blob", get.blob, "The blob")->required();
  get_cmd->add_option("--format", get_format, "raw (the bytes, no newline), text, hex, json, msgpack")
      ->check(format_check({"raw", "text", "hex", "json", "msgpack"}))->capture_default_str();

  SetOptions set;
  std::string set_format = "raw", set_value;
  auto* set_cmd = app.add_subcommand("set", "Write a blob's value: VALUE, or else all of stdin");
  set_cmd->add_option("blob", set.blob, "The blob")->required();
  set_cmd->add_option("value", set_value, "The value (none: read stdin to its end)");
  set_cmd->add_option("--format", set_format, "raw/text (as is), json (validated), hex (decoded)")
      ->check(format_check({"raw", "text", "json", "hex"}))->capture_default_str();

  RmOptions rm;
  auto* rm_cmd = app.add_subcommand("rm", "Remove segments (processes that map them keep their mapping). Refuses a "
                                          "segment stellad owns: one a running stellad reports as live or draining, or "
                                          "one declared in --config; --force removes it anyway");
  rm_cmd->add_option("names", rm.names, "Segment names")->required();
  rm_cmd->add_flag("--force", rm.force, "Remove even a segment stellad owns");
  add_daemon_options(rm_cmd, socket, config);

  StatOptions stat;
  auto* stat_cmd = app.add_subcommand("stat", "A segment's own counters: writers, readers (lag, lost), repairs. Takes no slot");
  stat_cmd->add_option("segment", stat.ring, "The segment")->required();
  stat_cmd->add_flag("--json", stat.json, "JSON for tools");

  HzOptions hz;
  std::string hz_interval = "1s";
  std::uint64_t hz_count = 0;
  auto* hz_cmd = app.add_subcommand("hz", "Rates per second of a ring (messages, bytes, per writer and reader), one line "
                                          "per interval. Takes no slot");
  hz_cmd->add_option("ring", hz.ring, "The ring")->required();
  hz_cmd->add_option("-i,--interval", hz_interval, "Sampling interval")->check(duration_check())->capture_default_str();
  hz_cmd->add_option("-n,--count", hz_count, "Stop after this many samples");
  hz_cmd->add_flag("--json", hz.json, "One JSON object per line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }

  if (ls_cmd->parsed()) {
    ls.daemon = daemon_options(socket, config);
    return cmd_ls(ls);
  }
  if (tail_cmd->parsed()) {
    tail.from_latest = tail_from == "latest";
    tail.format = format_of(tail_format);
    if (tail_count > 0) tail.count = tail_count;
    return cmd_tail(tail);
  }
  if (put_cmd->parsed()) {
    put.format = format_of(put_format);
    put.timeout = to_ms(put_timeout);
    return cmd_put(put);
  }
  if (get_cmd->parsed()) {
    get.format = format_of(get_format);
    return cmd_get(get);
  }
  if (set_cmd->parsed()) {
    set.format = format_of(set_format);
    if (set_cmd->count("value") > 0) set.value = set_value;
    return cmd_set(set);
  }
  if (rm_cmd->parsed()) {
    rm.daemon = daemon_options(socket, config);
    return cmd_rm(rm);
  }
  if (stat_cmd->parsed()) return cmd_stat(stat);
  if (hz_cmd->parsed()) {
    hz.interval = to_ms(hz_interval);
    if (hz_count > 0) hz.count = hz_count;
    return cmd_hz(hz);
  }
  return kUsage;
}
