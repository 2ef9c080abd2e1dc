// `stella`, the real binary, against real segments: created by the test, held by real
// helper processes (killed with kill -9 for the "dead" cases), and owned by a real stellad.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "../ring/ring_message.hpp"
#include "daemon_test_util.hpp"
#include "stella/common/ring_layout.hpp"
#include "stella/log_record.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

using namespace stella;
using test::CommandResult;

namespace {

CommandResult tool(const std::vector<std::string>& args) { return test::run_command(STELLA_TOOL, args); }

// `stella ARGS` with `input` on its stdin (through sh: run_command has no stdin of its own).
CommandResult tool_with_input(const std::string& input, const std::string& args) {
  const std::string file = test::temp_path("stdin");
  test::write_file(file, input);
  CommandResult r = test::run_command("/bin/sh", {"-c", std::string(STELLA_TOOL) + " " + args + " < " + file});
  std::remove(file.c_str());
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    out.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

nlohmann::json segment_in_ls(const std::string& name) {
  const CommandResult r = tool({"ls", "--json", "--socket", "/nonexistent/stellad.sock"});
  REQUIRE(r.exit_code == 0);
  const nlohmann::json all = nlohmann::json::parse(r.out);
  for (const auto& s : all["segments"]) {
    if (s["name"] == name) return s;
  }
  return nullptr;
}

// A helper process holding a slot (or streaming), ready once it said so.
struct Helper {
  test::ReadyPipe ready;
  std::optional<test::Child> child;
  Helper(const std::string& mode, const std::string& ring) {
    child.emplace(TOOL_PROC, std::vector<std::string>{mode, ring, std::to_string(ready.write_fd())});
    ready.close_write();
    REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  }
  void kill9() {
    child->kill(SIGKILL);
    (void)child->wait();
  }
};

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string hex_of(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::vector<std::byte> from_hex(const std::string& hex) {
  std::vector<std::byte> out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

// The sum of N over the "N message(s) lost" lines tail wrote on stderr.
std::uint64_t lost_in(const std::string& err) {
  std::uint64_t lost = 0;
  for (const std::string& line : lines(err)) {
    const std::string tag = "stella: tail: ";
    const std::size_t at = line.find(" message(s) lost");
    if (line.rfind(tag, 0) == 0 && at != std::string::npos) lost += std::stoull(line.substr(tag.size(), at - tag.size()));
  }
  return lost;
}

}  // namespace

TEST_CASE("put writes arguments and stdin lines; tail prints them in order and exits") {
  const std::string ring = test::unique_name("tool-put");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 65536);

  REQUIRE(tool({"put", ring, "one", "two"}).exit_code == 0);
  REQUIRE(tool_with_input("three\nfour\r\n", "put " + ring).exit_code == 0);

  const CommandResult r = tool({"tail", ring});
  CHECK(r.exit_code == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"one", "two", "three", "four"});
  CHECK(r.err.find("reader slot") != std::string::npos);  // it says it takes one

  const CommandResult two = tool({"tail", "-q", "--count", "2", ring});
  CHECK(lines(two.out) == std::vector<std::string>{"one", "two"});
  CHECK(two.err.empty());
  CHECK(tool({"tail", "--from", "latest", ring}).out.empty());
}

TEST_CASE("tail formats: text escapes, hex, json and msgpack decode; undecodable messages are shown, not fatal") {
  const std::string ring = test::unique_name("tool-fmt");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 65536);
  w.write_bytes(bytes_of("tab\there\x01"));
  w.write_bytes(bytes_of("{\"a\": [1, 2]}"));
  const std::string bad_utf8 = "\xff\xfe";
  w.write_bytes(bytes_of(bad_utf8));
  const std::string msgpack_map = "\x81\xa1k\x01";  // {"k": 1}
  w.write_bytes(bytes_of(msgpack_map));

  CHECK(tool({"tail", ring}).out == "tab\\there\\x01\n{\"a\": [1, 2]}\n\\xff\\xfe\n\\x81\\xa1k\\x01\n");
  CHECK(lines(tool({"tail", "--format", "hex", ring}).out)[2] == "fffe");

  const CommandResult json = tool({"tail", "--format", "json", ring});
  CHECK(json.exit_code == 4);  // something shown, something undecodable
  CHECK(lines(json.out) == std::vector<std::string>{"{\"a\":[1,2]}"});
  CHECK(json.err.find("message 0 (9 bytes): not JSON") != std::string::npos);
  CHECK(json.err.find("message 3") != std::string::npos);

  const CommandResult mp = tool({"tail", "--format", "msgpack", ring});
  CHECK(mp.exit_code == 4);
  CHECK(mp.out.find("{\"k\":1}") != std::string::npos);

  // A deeply nested JSON message is refused, not recursed into.
  MultiWriterCircularBuffer more(ring, SharedMemoryMode::Open);
  more.write_bytes(bytes_of(std::string(10000, '[') + std::string(10000, ']')));
  const CommandResult deep = tool({"tail", "--format", "json", ring});
  CHECK(deep.err.find("nested deeper than 128") != std::string::npos);
}

TEST_CASE("tail --format log prints log records like a log file") {
  const std::string ring = test::unique_name("tool-log");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 65536);
  const LogField fields[] = {{"request", "42"}, {"user", "a b"}};
  std::vector<std::byte> rec(log_record_size("api", "started", fields));
  // 2026-12-02T05:51:58.123456Z
  encode_log_record(rec, LogLevel::warn, 1796190718123456789ull, 77, 4242, "api", "started", fields);
  w.write_bytes(rec);
  w.write_bytes(bytes_of("not a record"));
  const CommandResult r = tool({"tail", "--format", "log", ring});
  CHECK(r.exit_code == 4);
  CHECK(lines(r.out) ==
        std::vector<std::string>{"2026-12-02T05:51:58.123456Z [warning] api (pid 4242, tid 77): started request=42 user=\"a b\""});
  CHECK(r.err.find("not a log record") != std::string::npos);
}

TEST_CASE("tail -f waits for new messages as a registered reader, and gives its slot back on SIGTERM") {
  const std::string ring = test::unique_name("tool-follow");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 65536);
  const std::string out = test::temp_path("tail-out");
  {
    test::Child tail(STELLA_TOOL, {"tail", "-f", "-q", "--from", "latest", ring}, out);
    // It is registered once the ring shows a reader.
    REQUIRE(test::eventually([&] { return segment_in_ls(ring)["readers"].size() == 1; }));
    w.write_bytes(bytes_of("late-1"));
    w.write_bytes(bytes_of("late-2"));
    REQUIRE(test::eventually([&] { return test::read_file(out) == "late-1\nlate-2\n"; }));
    tail.kill(SIGTERM);
    CHECK(tail.wait() == std::optional<int>(0));
  }
  CHECK(segment_in_ls(ring)["readers"].empty());  // the slot was released on the way out
  std::remove(out.c_str());

  // --count ends a follow by itself.
  const std::string out2 = test::temp_path("tail-out2");
  test::Child counted(STELLA_TOOL, {"tail", "-f", "-q", "--from", "latest", "-n", "1", ring}, out2);
  REQUIRE(test::eventually([&] { return segment_in_ls(ring)["readers"].size() == 1; }));
  w.write_bytes(bytes_of("only"));
  CHECK(counted.wait(std::chrono::seconds(30)) == std::optional<int>(0));
  CHECK(test::read_file(out2) == "only\n");
  std::remove(out2.c_str());
}

TEST_CASE("ls shows a typed segment's type tag (issue 18, typed channels); untyped ones show none") {
  const std::string typed = test::unique_name("tool-typed");
  const std::string plain = test::unique_name("tool-plain");
  test::SegmentCleanup cleanup({typed, plain});
  RingOptions o;
  o.schema = "market.Quote@2";
  MultiWriterCircularBuffer t(typed, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, o);
  MultiWriterCircularBuffer p(plain, SharedMemoryMode::Create, 4096);
  CHECK(segment_in_ls(typed)["schema"] == "market.Quote@2");
  CHECK(segment_in_ls(plain)["schema"] == "");
  const CommandResult table = tool({"ls", "--socket", "/nonexistent/stellad.sock"});
  bool found = false;
  for (const std::string& line : lines(table.out)) {
    if (line.rfind(typed + " ", 0) == 0) found = line.find(" market.Quote@2 ") != std::string::npos;
  }
  CHECK(found);
}

TEST_CASE("ls and stat show kind, capacity, mode, owner, live and dead writers and readers, positions") {
  const std::string ring = test::unique_name("tool-ls");
  const std::string blob = test::unique_name("tool-lsb");
  test::SegmentCleanup cleanup({ring, blob});
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 65536, WriteBehavior::Block);
  SharedMemory b(blob, SharedMemoryMode::Create, 4096);
  b.write_bytes(bytes_of("v1"));
  for (int i = 0; i < 3; ++i) w.write_bytes(bytes_of("xxxx"));

  Helper live_reader("reader", ring);
  Helper dead_reader("reader", ring);
  Helper dead_writer("writer", ring);
  dead_reader.kill9();
  dead_writer.kill9();

  const nlohmann::json s = segment_in_ls(ring);
  REQUIRE(s.is_object());
  CHECK(s["kind"] == "ring");
  CHECK(s["capacity"] == 65536);
  CHECK(s["mode"] == "block");
  CHECK(s["permissions"] == "0660");
  CHECK(s["messages"] == 3);
  const std::uint64_t three = 3 * stella::ring::record_size(4);  // three 4-byte messages
  CHECK(s["write_position"] == three);
  CHECK(s["stellad"] == "-");
  REQUIRE(s["readers"].size() == 2);
  REQUIRE(s["writers"].size() == 2);  // this test's own writer and the dead one
  int live = 0, dead = 0;
  for (const auto& r : s["readers"]) (r["alive"].get<bool>() ? live : dead)++;
  CHECK(live == 1);
  CHECK(dead == 1);
  for (const auto& r : s["readers"]) CHECK(r["lag_bytes"] == three);

  const nlohmann::json sb = segment_in_ls(blob);
  CHECK(sb["kind"] == "blob");
  CHECK(sb["generation"] == 1);

  const CommandResult table = tool({"ls", "--socket", "/nonexistent/stellad.sock"});
  CHECK(table.exit_code == 0);
  bool found = false;
  for (const std::string& line : lines(table.out)) {
    if (line.rfind(ring + " ", 0) == 0) {
      found = true;
      CHECK(line.find("1 (+1 dead)") != std::string::npos);
      CHECK(line.find("64 KiB") != std::string::npos);
    }
  }
  CHECK(found);
  CHECK(table.err.find("no stellad on /nonexistent/stellad.sock") != std::string::npos);

  const CommandResult stat = tool({"stat", ring});
  CHECK(stat.exit_code == 0);
  CHECK(stat.out.find("messages 3") != std::string::npos);
  CHECK(stat.out.find("reader") != std::string::npos);
  const nlohmann::json sj = nlohmann::json::parse(tool({"stat", "--json", ring}).out);
  CHECK(sj["readers_reaped"] == 0);
  CHECK(sj["readers"].size() == 2);
}

TEST_CASE("hz measures a ring's message rate without taking a slot") {
  const std::string ring = test::unique_name("tool-hz");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 65536);
  Helper stream("stream", ring);
  const CommandResult r = tool({"hz", "--json", "-n", "2", "-i", "200ms", ring});
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> samples = lines(r.out);
  REQUIRE(samples.size() == 2);
  const nlohmann::json last = nlohmann::json::parse(samples.back());
  CHECK(last["messages_per_s"].get<double>() > 0);
  CHECK(last["bytes_per_s"].get<double>() > 0);
  bool streaming = false;  // the helper; the test's own (idle) writer is listed too
  for (const auto& w : last["writers"]) {
    if (w["pid"] == stream.child->pid()) streaming = w["messages_per_s"].get<double>() > 0;
  }
  CHECK(streaming);
  CHECK(last["readers"].empty());
  stream.kill9();
}

TEST_CASE("get and set a blob in each format") {
  const std::string blob = test::unique_name("tool-blob");
  test::SegmentCleanup cleanup(blob);
  SharedMemory b(blob, SharedMemoryMode::Create, 64);
  const CommandResult never = tool({"get", blob});
  CHECK(never.exit_code == 1);
  CHECK(never.err.find("never been written") != std::string::npos);

  REQUIRE(tool({"set", blob, "{\"x\": 1}", "--format", "json"}).exit_code == 0);
  CHECK(tool({"get", blob}).out == "{\"x\": 1}");
  CHECK(tool({"get", "--format", "json", blob}).out == "{\"x\":1}\n");
  REQUIRE(tool({"set", "--format", "hex", blob, "00ff"}).exit_code == 0);
  CHECK(tool({"get", "--format", "hex", blob}).out == "00ff\n");
  REQUIRE(tool_with_input("from stdin\n", "set " + blob).exit_code == 0);
  CHECK(tool({"get", blob}).out == "from stdin\n");

  const CommandResult big = tool({"set", blob, std::string(65, 'x')});
  CHECK(big.exit_code == 1);
  CHECK(big.err.find(blob) != std::string::npos);
  CHECK(tool({"set", "--format", "json", blob, "{oops"}).exit_code == 2);
}

TEST_CASE("bad input and missing segments: clear errors and documented exit codes") {
  const std::string ring = test::unique_name("tool-bad");
  const std::string blob = test::unique_name("tool-badb");
  test::SegmentCleanup cleanup({ring, blob});
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 4096);
  SharedMemory b(blob, SharedMemoryMode::Create, 64);

  const CommandResult missing = tool({"tail", "no-such-ring-" + ring});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no-such-ring-" + ring) != std::string::npos);
  const CommandResult kind = tool({"tail", blob});
  CHECK(kind.exit_code == 1);
  CHECK(kind.err.find(blob) != std::string::npos);
  const CommandResult hex = tool({"put", "--format", "hex", ring, "abc"});
  CHECK(hex.exit_code == 2);
  CHECK(hex.err.find("odd number") != std::string::npos);
  const CommandResult hex2 = tool_with_input("00\nzz\n", "put --format hex " + ring);
  CHECK(hex2.exit_code == 2);
  CHECK(hex2.err.find("stdin line 2: not hex: 'z' at column 1") != std::string::npos);
  const CommandResult too_big = tool({"put", ring, std::string(4096, 'x')});
  CHECK(too_big.exit_code == 1);
  CHECK(too_big.err.find(ring) != std::string::npos);
  CHECK(tool({"frobnicate"}).exit_code == 2);
  CHECK(tool({"tail", ring, "--format", "yaml"}).exit_code == 2);
  const CommandResult hz_blob = tool({"hz", blob, "-n", "1"});
  CHECK(hz_blob.exit_code == 1);
  CHECK(hz_blob.err.find("is a blob, not a ring") != std::string::npos);
}

TEST_CASE("put into a full Block ring times out with exit 1") {
  const std::string ring = test::unique_name("tool-full");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 4096, WriteBehavior::Block);
  Helper reader("reader", ring);  // registered, never reads
  const std::string filler(1000, 'f');
  std::string args;
  for (int i = 0; i < 8; ++i) args += " " + filler;
  const CommandResult r = test::run_command("/bin/sh", {"-c", std::string(STELLA_TOOL) + " put --timeout 100ms " + ring + args});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("is full (Block mode)") != std::string::npos);
  reader.kill9();
}

TEST_CASE("rm removes segments, but refuses the ones stellad owns unless --force") {
  const std::string owned = test::unique_name("tool-own");
  const std::string loose = test::unique_name("tool-loose");
  const std::string refused = test::unique_name("tool-ref");
  test::SegmentCleanup cleanup({owned, loose, refused});
  MultiWriterCircularBuffer loose_ring(loose, SharedMemoryMode::Create, 4096);
  // A blob where the config wants a ring: stellad refuses it and leaves it to us.
  SharedMemory squatter(refused, SharedMemoryMode::Create, 64);

  test::Stellad d("tool-rm", "", test::ring_segment(owned, "64KiB", "overwrite") +
                                     test::ring_segment(refused, "64KiB", "overwrite"));
  d.start();

  const nlohmann::json ls = nlohmann::json::parse(tool({"ls", "--json", "--socket", d.socket()}).out);
  CHECK(ls["stellad"]["reachable"] == true);
  for (const auto& s : ls["segments"]) {
    if (s["name"] == owned) CHECK(s["stellad"] == "owned");
    if (s["name"] == loose) CHECK(s["stellad"] == "-");
    if (s["name"] == refused) CHECK(s["stellad"] == "refused");
  }

  const CommandResult no = tool({"rm", "--socket", d.socket(), owned, loose, refused});
  CHECK(no.exit_code == 3);
  CHECK(no.err.find("refusing to remove segment '" + owned + "': the stellad on " + d.socket() + " owns it") !=
        std::string::npos);
  CHECK(platform::MappedObject::exists(owned));
  CHECK_FALSE(platform::MappedObject::exists(loose));
  CHECK_FALSE(platform::MappedObject::exists(refused));

  const CommandResult gone = tool({"rm", "--socket", d.socket(), loose});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find("no segment '" + loose + "'") != std::string::npos);
  CHECK(tool({"rm", "--socket", d.socket(), "../etc"}).exit_code == 2);

  // Without stellad running, the config still says whose it is.
  d.stop();
  const CommandResult by_config = tool({"rm", "--config", d.config(), owned});
  CHECK(by_config.exit_code == 3);
  CHECK(by_config.err.find("declared in " + d.config()) != std::string::npos);
  const CommandResult forced = tool({"rm", "--force", "--config", d.config(), owned});
  CHECK(forced.exit_code == 0);
  CHECK_FALSE(platform::MappedObject::exists(owned));
}

TEST_CASE("bash completion completes commands, options, formats and segment names") {
  const std::string ring = test::unique_name("tool-compl");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 4096);
  auto complete = [](const std::string& words, int cword) {
    const std::string script = std::string("source ") + STELLA_COMPLETION + "; COMP_WORDS=(" + words +
                               "); COMP_CWORD=" + std::to_string(cword) + "; _stella; echo \"${COMPREPLY[*]}\"";
    const CommandResult r = test::run_command("/bin/bash", {"-c", script});
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  CHECK(complete("stella ta", 1) == "tail\n");
  CHECK(complete("stella tail --format j", 3) == "json\n");
  CHECK(complete("stella tail --fo", 2) == "--follow --format\n");
  CHECK(complete("stella stat " + ring.substr(0, ring.size() - 2), 2) == ring + "\n");
}

TEST_CASE("tail --peek takes no slot: a Block writer laps it freely; what it prints is intact and printed + lost == written") {
  const std::string ring = test::unique_name("tool-peek");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 4096, WriteBehavior::Block);
  const std::string out = test::temp_path("peek-out"), err = test::temp_path("peek-err");
  // Through sh only to send its stderr to a file; exec keeps the pid stella's.
  test::Child tail("/bin/sh", {"-c", "exec " + std::string(STELLA_TOOL) + " tail --peek -f --format hex " + ring + " 2> " + err},
                   out);
  w.write_bytes(bytes_of("sync"));
  REQUIRE(test::eventually([&] { return test::read_file(out) == hex_of("sync") + "\n"; }));
  // It runs and reads, yet the ring has no reader: a slot would hold this Block writer back.
  const nlohmann::json seen = segment_in_ls(ring);
  CHECK(seen["mode"] == "block");
  CHECK(seen["readers"].empty());
  CHECK(nlohmann::json::parse(tool({"stat", "--json", ring}).out)["readers"].empty());

  // 5000 messages of 32..1500 bytes through a 4 KiB ring: it laps the peeker many times. The
  // writer never waits (try_write; exit 3 if it would have had to), so it finishes.
  constexpr std::uint64_t kCount = 5000;
  test::ReadyPipe ready;
  test::Child burst(TOOL_PROC, {"burst", ring, std::to_string(ready.write_fd()), std::to_string(kCount)});
  ready.close_write();
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  REQUIRE(burst.wait(std::chrono::seconds(60)) == std::optional<int>(0));

  w.write_bytes(bytes_of("end"));  // after the burst: once it is printed, the peeker caught up
  REQUIRE(test::eventually([&] {
    const std::string text = test::read_file(out);
    return text.size() >= 7 && text.compare(text.size() - 7, 7, hex_of("end") + "\n") == 0;
  }));
  // Idle now: it polls with bounded sleeps, it does not spin.
  const auto cpu_before = test::process_cpu_time(tail.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a measurement window, not synchronisation
  const auto cpu_used = test::process_cpu_time(tail.pid()) - cpu_before;
  tail.kill(SIGTERM);
  CHECK(tail.wait() == std::optional<int>(0));

  test::MessageChecker checker(1, kCount, false);
  std::uint64_t printed = 0;
  const std::vector<std::string> shown = lines(test::read_file(out));
  REQUIRE(shown.size() >= 2);
  CHECK(shown.front() == hex_of("sync"));
  CHECK(shown.back() == hex_of("end"));
  for (std::size_t i = 1; i + 1 < shown.size(); ++i) {
    checker.check(from_hex(shown[i]));
    ++printed;
  }
  const std::string errors = test::read_file(err);
  const std::uint64_t lost = lost_in(errors);
  MESSAGE("printed " << printed << " lost " << lost << "; idle CPU over 1 s "
                     << std::chrono::duration_cast<std::chrono::microseconds>(cpu_used).count() << " us");
  CHECK(errors.find("without a reader slot") != std::string::npos);
  CHECK(checker.torn() == 0);
  CHECK(checker.order_errors() == 0);
  CHECK(lost > 0);  // it was lapped
  CHECK(printed + lost == kCount);
  CHECK(cpu_used < std::chrono::milliseconds(100));
  std::remove(out.c_str());
  std::remove(err.c_str());
}

TEST_CASE("tail --peek: formats, --count, --from latest, a Block ring a stalled reader holds, errors, completion") {
  const std::string ring = test::unique_name("tool-peek2");
  const std::string blob = test::unique_name("tool-peekb");
  test::SegmentCleanup cleanup({ring, blob});
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 4096, WriteBehavior::Block);
  SharedMemory b(blob, SharedMemoryMode::Create, 64);
  Helper reader("reader", ring);  // registered, never reads: the ring fills up
  w.write_bytes(bytes_of("one"));
  w.write_bytes(bytes_of("{\"two\": 2}"));
  std::uint64_t n = 2;
  while (w.try_write_bytes(bytes_of("fill")) == WriteResult::Ok) ++n;  // full: writers wait for the reader

  const CommandResult all = tool({"tail", "--peek", ring});
  CHECK(all.exit_code == 0);
  const std::vector<std::string> got = lines(all.out);
  REQUIRE(got.size() == n);  // everything the reader holds back, nothing lost
  CHECK(got[0] == "one");
  CHECK(got[1] == "{\"two\": 2}");
  CHECK(all.err.find("without a reader slot") != std::string::npos);
  CHECK(all.err.find("lost") == all.err.rfind("lost"));  // only the note mentions it: nothing was lost

  const CommandResult two = tool({"tail", "--peek", "-q", "-n", "2", "--format", "hex", ring});
  CHECK(two.exit_code == 0);
  CHECK(lines(two.out) == std::vector<std::string>{hex_of("one"), hex_of("{\"two\": 2}")});
  CHECK(two.err.empty());
  const CommandResult json = tool({"tail", "--peek", "-q", "--format", "json", "-n", "2", ring});
  CHECK(json.exit_code == 4);  // "one" is not JSON: shown on stderr, not fatal
  CHECK(lines(json.out) == std::vector<std::string>{"{\"two\":2}"});
  CHECK(json.err.find("message 0 (3 bytes): not JSON") != std::string::npos);
  CHECK(tool({"tail", "--peek", "-q", "--from", "latest", ring}).out.empty());
  CHECK(segment_in_ls(ring)["readers"].size() == 1);  // the helper's slot only

  const CommandResult kind = tool({"tail", "--peek", blob});
  CHECK(kind.exit_code == 1);
  CHECK(kind.err.find(blob) != std::string::npos);
  const CommandResult missing = tool({"tail", "--peek", "no-such-ring-" + ring});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no-such-ring-" + ring) != std::string::npos);
  reader.kill9();

  const std::string script = std::string("source ") + STELLA_COMPLETION +
                             "; COMP_WORDS=(stella tail --pe); COMP_CWORD=2; _stella; echo \"${COMPREPLY[*]}\"";
  CHECK(test::run_command("/bin/bash", {"-c", script}).out == "--peek\n");
}
