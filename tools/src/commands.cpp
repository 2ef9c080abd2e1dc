#include "commands.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_link.hpp"
#include "inspect.hpp"
#include "platform.hpp"
#include "stella/common/names.hpp"
#include "stella/common/ring.hpp"
#include "stella/common/segment.hpp"
#include "stella/config/config.hpp"
#include "stella/stella.hpp"

namespace stella::tools {

namespace {

using Clock = std::chrono::steady_clock;

void fail_line(std::string_view command, const std::string& what) {
  std::fprintf(stderr, "stella: %.*s: %s\n", static_cast<int>(command.size()), command.data(), what.c_str());
}

// False when stdout is gone (a closed pipe): the caller stops.
bool out_line(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  return std::ferror(stdout) == 0;
}

std::string size_text(std::uint64_t bytes) { return config::format_size(bytes); }

std::string slots_text(const std::vector<SlotRow>& rows) {
  const auto dead = static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [](const SlotRow& r) { return !r.alive; }));
  std::string s = std::to_string(rows.size() - dead);
  if (dead > 0) s += " (+" + std::to_string(dead) + " dead)";
  return s;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out_line(line);
  }
}

nlohmann::json slots_json(const std::vector<SlotRow>& rows, bool readers) {
  nlohmann::json out = nlohmann::json::array();
  for (const SlotRow& r : rows) {
    nlohmann::json j{{"slot", r.slot}, {"pid", r.pid}, {"alive", r.alive}};
    if (readers) {
      j["messages_read"] = r.messages;
      j["cursor"] = r.cursor;
      j["lag_bytes"] = r.lag_bytes;
      j["messages_lost"] = r.lost;
      j["evicted"] = r.evicted;
    } else {
      j["messages_written"] = r.messages;
    }
    out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json info_json(const SegmentInfo& s) {
  nlohmann::json j{{"name", s.name},
                   {"kind", s.kind},
                   {"schema", s.schema},
                   {"capacity", s.capacity},
                   {"permissions", config::format_mode(s.permissions)},
                   {"owner", user_name(s.uid)},
                   {"group", group_name(s.gid)},
                   {"uid", s.uid},
                   {"gid", s.gid},
                   {"size_bytes", s.size_bytes},
                   {"creator_pid", s.creator_pid},
                   {"created_unix_ns", s.created_unix_ns}};
  if (!s.problem.empty()) j["problem"] = s.problem;
  if (s.kind == "ring") {
    j["mode"] = s.mode;
    j["write_position"] = s.write_position;
    j["oldest_position"] = s.oldest_position;
    j["messages"] = s.messages;
    j["writers"] = slots_json(s.writers, false);
    j["readers"] = slots_json(s.readers, true);
    j["records_repaired"] = s.records_repaired;
    j["readers_reaped"] = s.readers_reaped;
    j["writers_reaped"] = s.writers_reaped;
    j["readers_evicted"] = s.readers_evicted;
  } else if (s.kind == "blob") {
    j["generation"] = s.generation;
  }
  return j;
}

// inspect() for the commands that name one segment: prints why not and returns nullopt.
std::optional<SegmentInfo> inspect_one(std::string_view command, const std::string& name, const char* want_kind) {
  try {
    SegmentInfo info = inspect(name);
    if (!info.problem.empty()) {
      fail_line(command, info.problem);
      return std::nullopt;
    }
    if (want_kind != nullptr && info.kind != want_kind) {
      fail_line(command, "segment '" + name + "' is a " + info.kind + ", not a " + want_kind);
      return std::nullopt;
    }
    return info;
  } catch (const std::exception& e) {
    fail_line(command, e.what());
    return std::nullopt;
  }
}

}  // namespace

// ---- ls ---------------------------------------------------------------------------------

int cmd_ls(const LsOptions& o) {
  DaemonLink link;
  try {
    link = ask_daemon(o.daemon.socket, o.daemon.config, o.daemon.timeout);
  } catch (const std::exception& e) {
    fail_line("ls", e.what());
    return kUsage;
  }
  std::vector<SegmentInfo> infos;
  for (const std::string& name : list_segment_names()) {
    try {
      infos.push_back(inspect(name));
    } catch (const Error&) {
      // Removed between the listing and the open: not there any more.
    }
  }
  auto stellad_text = [&](const std::string& name) -> std::string {
    if (link.owned.count(name) > 0) return "owned";
    if (link.refused.count(name) > 0) return "refused";
    if (link.configured.count(name) > 0) return "configured";
    return "-";
  };
  if (o.json) {
    nlohmann::json out{{"stellad", {{"socket", link.socket.string()}, {"reachable", link.reachable}}},
                       {"segments", nlohmann::json::array()}};
    for (const SegmentInfo& s : infos) {
      nlohmann::json j = info_json(s);
      j["stellad"] = stellad_text(s.name);
      out["segments"].push_back(std::move(j));
    }
    out_line(out.dump(2));
    return kOk;
  }
  std::vector<std::vector<std::string>> rows{{"NAME", "KIND", "TYPE", "CAPACITY", "MODE", "OWNER", "PERMS",
                                              "WRITERS", "READERS", "WRITE POS", "MESSAGES", "STELLAD"}};
  for (const SegmentInfo& s : infos) {
    const bool ring = s.kind == "ring";
    const bool ok = s.problem.empty();
    rows.push_back({s.name, s.kind, s.schema.empty() ? "-" : s.schema, ok ? size_text(s.capacity) : "-",
                    ring ? s.mode : "-",
                    user_name(s.uid) + ":" + group_name(s.gid), config::format_mode(s.permissions),
                    ring && ok ? slots_text(s.writers) : "-", ring && ok ? slots_text(s.readers) : "-",
                    ring && ok ? std::to_string(s.write_position) : (ok ? "gen " + std::to_string(s.generation) : "-"),
                    ring && ok ? std::to_string(s.messages) : "-", stellad_text(s.name)});
  }
  print_table(rows);
  for (const SegmentInfo& s : infos) {
    if (!s.problem.empty()) std::fprintf(stderr, "stella: ls: %s\n", s.problem.c_str());
  }
  if (!link.reachable) std::fprintf(stderr, "stella: ls: no stellad on %s (%s)\n", link.socket.c_str(), link.error.c_str());
  return kOk;
}

// ---- tail -------------------------------------------------------------------------------

namespace {

constexpr auto kWakeEvery = std::chrono::milliseconds(250);  // to notice Ctrl-C while asleep

// What both kinds of tail do with a message they read. `number`: the message's number since
// this tail started (every one read or lost before it). False when stdout is gone.
struct TailPrinter {
  const TailOptions& o;
  std::uint64_t shown = 0, undecodable = 0, lost_reported = 0;

  void report_lost(std::uint64_t lost_total) {
    if (lost_total <= lost_reported) return;
    std::fprintf(stderr, "stella: tail: %llu message(s) lost (overwritten before they were read)\n",
                 static_cast<unsigned long long>(lost_total - lost_reported));
    lost_reported = lost_total;
  }
  bool print(const std::vector<std::byte>& copy, std::uint64_t number) {
    ++shown;
    std::string error;
    const std::optional<std::string> line = render(o.format, copy, error);
    if (!line) {
      ++undecodable;
      std::fprintf(stderr, "stella: tail: message %llu (%zu bytes): %s\n", static_cast<unsigned long long>(number),
                   copy.size(), error.c_str());
      return true;
    }
    if (!out_line(*line)) return false;
    std::fflush(stdout);
    return true;
  }
  [[nodiscard]] bool done() const { return stop_requested() || (o.count && shown >= *o.count); }
  [[nodiscard]] int exit_code() const { return undecodable > 0 ? kPartial : kOk; }
};

// --peek: no reader slot, nothing written into the ring (mapped read-only), never waited for.
int tail_peek(const TailOptions& o) {
  Segment segment;
  std::optional<ring::RingPeeker> peeker;
  try {
    segment = Segment::open(o.ring, SegmentKind::ring, platform::Access::read_only);
    ring::PeekerOptions po;
    po.start = o.from_latest ? ring::StartPosition::latest : ring::StartPosition::oldest;
    po.max_poll = kPeekPoll;
    peeker.emplace(ring::attach(segment), po);
  } catch (const std::exception& e) {
    fail_line("tail", e.what());
    return kFailed;
  }
  if (!o.quiet) {
    std::fprintf(stderr,
                 "stella: tail: peeking at ring '%s' without a reader slot (--peek): mapped read-only, writers never "
                 "wait for it; it polls every %lld ms at most; messages overwritten before it reads them are counted "
                 "as lost%s\n",
                 o.ring.c_str(), static_cast<long long>(kPeekPoll.count()), o.follow ? " (Ctrl-C to stop)" : "");
  }
  TailPrinter out{o};
  std::vector<std::byte> copy;
  while (!out.done()) {
    const ring::ReadStatus s = o.follow ? peeker->read(copy, kWakeEvery) : peeker->try_read(copy);
    if (s == ring::ReadStatus::corrupt) {
      fail_line("tail", "ring '" + o.ring + "' is corrupt: its contents are inconsistent at position " +
                            std::to_string(peeker->position()));
      return kFailed;
    }
    if (s != ring::ReadStatus::ok) {
      if (o.follow) continue;
      break;
    }
    out.report_lost(peeker->messages_lost());
    if (!out.print(copy, peeker->messages_read() + peeker->messages_lost() - 1)) break;
  }
  return out.exit_code();
}

}  // namespace

int cmd_tail(const TailOptions& o) {
  install_stop_signals();
  if (o.peek) return tail_peek(o);
  std::optional<LockFreeBufferReader> reader;
  try {
    ReaderOptions ro;
    ro.start = o.from_latest ? StartPosition::Latest : StartPosition::Oldest;
    reader.emplace(o.ring, ro);
  } catch (const std::exception& e) {
    fail_line("tail", e.what());
    return kFailed;
  }
  if (!o.quiet) {
    std::fprintf(stderr,
                 "stella: tail: reading ring '%s' as an ordinary reader: it holds one of the ring's reader slots "
                 "while it runs%s\n",
                 o.ring.c_str(), o.follow ? " (Ctrl-C to stop)" : "");
  }
  TailPrinter out{o};
  std::vector<std::byte> copy;
  try {
    while (!out.done()) {
      std::optional<LockFreeBufferReader::View> view;
      try {
        view = o.follow ? reader->peek(kWakeEvery) : reader->try_peek();
      } catch (const Error& e) {
        if (e.code() != Errc::evicted) throw;
        std::fprintf(stderr, "stella: tail: this reader stalled and was evicted; it resumes at the oldest message\n");
        continue;
      }
      if (!view) {
        if (o.follow) continue;
        break;
      }
      copy.assign(view->data().begin(), view->data().end());
      // Overwrite mode: false means a writer overwrote the message while we copied it.
      if (!reader->release()) continue;
      out.report_lost(reader->messages_lost());
      if (!out.print(copy, reader->messages_read() + reader->messages_lost() - 1)) break;
    }
  } catch (const std::exception& e) {
    fail_line("tail", e.what());
    return kFailed;
  }
  return out.exit_code();
}

// ---- put --------------------------------------------------------------------------------

int cmd_put(const PutOptions& o) {
  std::optional<MultiWriterCircularBuffer> writer;
  try {
    writer.emplace(o.ring, SharedMemoryMode::Open);
  } catch (const std::exception& e) {
    fail_line("put", e.what());
    return kFailed;
  }
  std::uint64_t line_no = 0;
  auto put_one = [&](const std::string& text) -> int {
    ++line_no;
    std::string error;
    const std::optional<std::vector<std::byte>> bytes = encode(o.format, text, error);
    if (!bytes) {
      fail_line("put", (o.messages.empty() ? "stdin line " : "message ") + std::to_string(line_no) + ": " + error);
      return kUsage;
    }
    try {
      if (writer->write_bytes(*bytes, o.timeout) != WriteResult::Ok) {
        fail_line("put", "ring '" + o.ring + "' is full (Block mode): no space within " +
                             std::to_string(o.timeout.count()) + " ms for message " + std::to_string(line_no));
        return kFailed;
      }
    } catch (const std::exception& e) {
      fail_line("put", e.what());
      return kFailed;
    }
    return kOk;
  };
  if (!o.messages.empty()) {
    for (const std::string& m : o.messages) {
      if (const int rc = put_one(m); rc != kOk) return rc;
    }
    return kOk;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (const int rc = put_one(line); rc != kOk) return rc;
  }
  return kOk;
}

// ---- get / set --------------------------------------------------------------------------

int cmd_get(const GetOptions& o) {
  try {
    const SharedMemory blob = SharedMemory::open_read_only(o.blob);
    const std::optional<std::vector<std::byte>> value = blob.try_read_bytes();
    if (!value) {
      fail_line("get", "blob '" + o.blob + "' has never been written");
      return kFailed;
    }
    std::string error;
    const std::optional<std::string> text = render(o.format, *value, error);
    if (!text) {
      fail_line("get", "blob '" + o.blob + "' (" + std::to_string(value->size()) + " bytes): " + error);
      return kPartial;
    }
    if (o.format == Format::raw) {
      std::fwrite(text->data(), 1, text->size(), stdout);
    } else {
      out_line(*text);
    }
    return std::ferror(stdout) == 0 ? kOk : kFailed;
  } catch (const std::exception& e) {
    fail_line("get", e.what());
    return kFailed;
  }
}

int cmd_set(const SetOptions& o) {
  std::string text;
  if (o.value) {
    text = *o.value;
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::string error;
  const std::optional<std::vector<std::byte>> bytes = encode(o.format, text, error);
  if (!bytes) {
    fail_line("set", error);
    return kUsage;
  }
  try {
    SharedMemory blob(o.blob, SharedMemoryMode::Open);
    blob.write_bytes(*bytes);
    return kOk;
  } catch (const std::exception& e) {
    fail_line("set", e.what());
    return kFailed;
  }
}

// ---- rm ---------------------------------------------------------------------------------

int cmd_rm(const RmOptions& o) {
  DaemonLink link;
  try {
    link = ask_daemon(o.daemon.socket, o.daemon.config, o.daemon.timeout);
  } catch (const std::exception& e) {
    fail_line("rm", e.what());
    return kUsage;
  }
  int rc = kOk;
  for (const std::string& name : o.names) {
    if (const std::string why = segment_name_problem(name); !why.empty()) {
      fail_line("rm", "'" + name + "' is not a segment name: " + why);
      rc = std::max(rc, static_cast<int>(kUsage));
      continue;
    }
    if (link.owns(name) && !o.force) {
      const std::string whose = link.owned.count(name) > 0
                                    ? "the stellad on " + link.socket.string() + " owns it"
                                    : "it is declared in " + o.daemon.config->string() + " (stellad adopts it)";
      fail_line("rm", "refusing to remove segment '" + name + "': " + whose +
                          "; remove it from the config and reload, or pass --force");
      rc = std::max(rc, static_cast<int>(kRefused));
      continue;
    }
    if (!platform::MappedObject::unlink(name)) {
      fail_line("rm", "no segment '" + name + "'");
      rc = std::max(rc, static_cast<int>(kFailed));
      continue;
    }
    if (link.owns(name)) {
      std::fprintf(stderr, "stella: rm: removed '%s' although stellad owns it (--force); processes that map it keep "
                           "their mapping\n", name.c_str());
    }
  }
  return rc;
}

// ---- stat -------------------------------------------------------------------------------

int cmd_stat(const StatOptions& o) {
  const std::optional<SegmentInfo> info = inspect_one("stat", o.ring, nullptr);
  if (!info) return kFailed;
  const SegmentInfo& s = *info;
  if (o.json) {
    out_line(info_json(s).dump(2));
    return kOk;
  }
  out_line(s.name + ": " + s.kind + ", " + size_text(s.capacity) + (s.kind == "ring" ? ", " + s.mode : "") +
           ", owner " + user_name(s.uid) + ":" + group_name(s.gid) + " " + config::format_mode(s.permissions) +
           ", created by pid " + std::to_string(s.creator_pid));
  if (s.kind == "blob") {
    out_line("values written: " + std::to_string(s.generation));
    return kOk;
  }
  out_line("write position " + std::to_string(s.write_position) + ", oldest " + std::to_string(s.oldest_position) +
           ", messages " + std::to_string(s.messages) + " (" + size_text(s.write_position - s.oldest_position) +
           " held)");
  out_line("repairs: " + std::to_string(s.records_repaired) + " records repaired, " + std::to_string(s.readers_reaped) +
           " readers reaped, " + std::to_string(s.writers_reaped) + " writers reaped, " +
           std::to_string(s.readers_evicted) + " readers evicted");
  std::vector<std::vector<std::string>> rows{{"ROLE", "SLOT", "PID", "ALIVE", "MESSAGES", "LAG", "LOST", "EVICTED"}};
  for (const SlotRow& w : s.writers) {
    rows.push_back({"writer", std::to_string(w.slot), std::to_string(w.pid), w.alive ? "yes" : "no",
                    std::to_string(w.messages), "-", "-", "-"});
  }
  for (const SlotRow& r : s.readers) {
    rows.push_back({"reader", std::to_string(r.slot), std::to_string(r.pid), r.alive ? "yes" : "no",
                    std::to_string(r.messages), size_text(r.lag_bytes), std::to_string(r.lost), r.evicted ? "yes" : "no"});
  }
  print_table(rows);
  return kOk;
}

// ---- hz ---------------------------------------------------------------------------------

int cmd_hz(const HzOptions& o) {
  std::optional<SegmentInfo> before = inspect_one("hz", o.ring, "ring");
  if (!before) return kFailed;
  Clock::time_point t0 = Clock::now();
  for (std::uint64_t sample = 0; !o.count || sample < *o.count; ++sample) {
    std::this_thread::sleep_for(o.interval);  // the sampling period itself, not a synchronisation
    std::optional<SegmentInfo> now = inspect_one("hz", o.ring, "ring");
    if (!now) return kFailed;
    const Clock::time_point t1 = Clock::now();
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    auto rate = [&](std::uint64_t a, std::uint64_t b) { return b >= a ? static_cast<double>(b - a) / secs : 0.0; };
    auto by_slot = [](const std::vector<SlotRow>& rows, const SlotRow& r) -> const SlotRow* {
      for (const SlotRow& x : rows) {
        if (x.slot == r.slot && x.pid == r.pid) return &x;
      }
      return nullptr;
    };
    const double msgs = rate(before->messages, now->messages);
    const double bytes = rate(before->write_position, now->write_position);
    if (o.json) {
      nlohmann::json j{{"segment", o.ring}, {"interval_s", secs}, {"messages_per_s", msgs}, {"bytes_per_s", bytes},
                       {"writers", nlohmann::json::array()}, {"readers", nlohmann::json::array()}};
      for (const SlotRow& w : now->writers) {
        const SlotRow* p = by_slot(before->writers, w);
        j["writers"].push_back({{"slot", w.slot}, {"pid", w.pid}, {"messages_per_s", rate(p ? p->messages : 0, w.messages)}});
      }
      for (const SlotRow& r : now->readers) {
        const SlotRow* p = by_slot(before->readers, r);
        j["readers"].push_back({{"slot", r.slot}, {"pid", r.pid}, {"messages_per_s", rate(p ? p->messages : 0, r.messages)},
                                {"lost_per_s", rate(p ? p->lost : 0, r.lost)}, {"lag_bytes", r.lag_bytes}});
      }
      if (!out_line(j.dump())) return kFailed;
    } else {
      char head[160];
      std::snprintf(head, sizeof head, "%s: %.0f msg/s, %s/s", o.ring.c_str(), msgs,
                    size_text(static_cast<std::uint64_t>(bytes)).c_str());
      std::string line = head;
      for (const SlotRow& w : now->writers) {
        const SlotRow* p = by_slot(before->writers, w);
        line += "; writer " + std::to_string(w.pid) + " " + std::to_string(static_cast<std::uint64_t>(rate(p ? p->messages : 0, w.messages))) + "/s";
      }
      for (const SlotRow& r : now->readers) {
        const SlotRow* p = by_slot(before->readers, r);
        line += "; reader " + std::to_string(r.pid) + " " + std::to_string(static_cast<std::uint64_t>(rate(p ? p->messages : 0, r.messages))) +
                "/s lost " + std::to_string(static_cast<std::uint64_t>(rate(p ? p->lost : 0, r.lost))) + "/s";
      }
      if (!out_line(line)) return kFailed;
    }
    std::fflush(stdout);
    before = std::move(now);
    t0 = t1;
  }
  return kOk;
}

}  // namespace stella::tools
