// stellad end to end: the real binary on temporary configs and sockets, unique segment names.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_test_util.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace proto = stella::daemon::protocol;

namespace {

const std::string kFast = "reap_interval = \"20ms\"\nrecovery_timeout = \"200ms\"\n";

// A raw client: connect, send `bytes`, return the fd (the caller reads and closes).
int connect_raw(const std::string& socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Reads until EOF or `timeout`; nullopt on timeout.
std::optional<std::string> read_all(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;  // EOF (or reset): the daemon is done with us
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string round_trip(const std::string& socket, const std::string& bytes) {
  const int fd = connect_raw(socket);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  const auto r = read_all(fd, 10s);
  ::close(fd);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("stellad check-config: the catalogue of bad configs, each problem at its location; the example is valid") {
  const fs::path dir = STELLA_CONFIG_DIR;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir / "bad")) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    CAPTURE(entry.path().string());
    const auto r = test::run_command(STELLAD, {"check-config", entry.path().string()});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    // Every "# expect: LINE:COLUMN: fragment" appears as "file:LINE:COLUMN: ...fragment".
    std::ifstream in(entry.path());
    std::string line;
    int expected = 0;
    while (std::getline(in, line) && line.rfind("# expect: ", 0) == 0) {
      ++expected;
      const std::string rest = line.substr(10);
      const auto colon2 = rest.find(": ", rest.find(':') + 1);
      const std::string position = entry.path().string() + ":" + rest.substr(0, colon2) + ": ";
      const std::string fragment = rest.substr(colon2 + 2);
      bool found = false;
      std::istringstream err(r.err);
      for (std::string e; std::getline(err, e);) {
        if (e.rfind(position, 0) == 0 && e.find(fragment) != std::string::npos) found = true;
      }
      CHECK_MESSAGE(found, "expected " << position << fragment);
    }
    CHECK(r.err.find(std::to_string(expected) + " problem(s)") != std::string::npos);
  }
  CHECK(files >= 20);

  const auto ok = test::run_command(STELLAD, {"check-config", (dir / "stella.example.toml").string()});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("valid") != std::string::npos);
  for (const char* s : {"telemetry", "events", "settings"}) CHECK(ok.out.find(s) != std::string::npos);
  const auto missing = test::run_command(STELLAD, {"check-config", "/nonexistent/stella.toml"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("/nonexistent/stella.toml") != std::string::npos);
  CHECK(test::run_command(STELLAD, {"--version"}).out.find("stellad ") == 0);
}

TEST_CASE("stellad run: status table and JSON, a second instance refused, SIGTERM keeps the segments") {
  const std::string ring = test::unique_name("st-ring"), block = test::unique_name("st-block"),
                    blob = test::unique_name("st-blob");
  test::SegmentCleanup cleanup({ring, block, blob});
  test::Stellad d("run", kFast,
                  test::ring_segment(ring, "64KiB", "overwrite") +
                      test::ring_segment(block, "16KiB", "block", "permissions = \"0640\"\nmax_readers = 4") +
                      test::blob_segment(blob, "4KiB"));
  d.start();
  for (const auto& n : {ring, block, blob}) CHECK(platform::MappedObject::exists(n));

  // This process writes and reads: status must show it as writer and reader.
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Open);
  LockFreeBufferReader r(ring);
  const std::byte msg[100]{};
  for (int i = 0; i < 10; ++i) REQUIRE(w.write_bytes(msg) == WriteResult::Ok);
  std::vector<std::byte> out;
  REQUIRE(r.try_read_bytes(out));
  r.core().publish();

  const auto table = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  INFO(table.out << table.err);
  CHECK(table.exit_code == 0);
  for (const auto& needle : {ring, block, blob, std::string("healthy"), std::string("overwrite"),
                             std::string("block"), std::string("0640"), std::string("64 KiB"),
                             std::string("pid " + std::to_string(::getpid()))}) {
    CHECK_MESSAGE(table.out.find(needle) != std::string::npos, needle);
  }

  const auto json_out = test::run_command(STELLAD, {"status", "--socket", d.socket(), "--json"});
  CHECK(json_out.exit_code == 0);
  const auto j = nlohmann::json::parse(json_out.out);
  CHECK(j["health"] == "healthy");
  CHECK(j["daemon"]["pid"] == d.proc().pid());
  bool saw_ring = false;
  for (const auto& s : j["segments"]) {
    if (s["name"] == ring) {
      saw_ring = true;
      CHECK(s["kind"] == "ring");
      CHECK(s["capacity"] == 65536);
      CHECK(s["mode"] == "overwrite");
      CHECK(s["permissions"] == 0660);
      CHECK(s["write_position"].get<std::uint64_t>() > 0);
      REQUIRE(s["writers"].size() == 1);
      CHECK(s["writers"][0]["pid"] == ::getpid());
      CHECK(s["writers"][0]["written"] == 10);
      REQUIRE(s["readers"].size() == 1);
      CHECK(s["readers"][0]["pid"] == ::getpid());
      CHECK(s["readers"][0]["read"] == 1);
      CHECK(s["readers"][0]["lost"] == 0);
      CHECK(s["readers"][0]["lag_bytes"].get<std::uint64_t>() > 0);
    }
    if (s["name"] == blob) CHECK(s["kind"] == "blob");
  }
  CHECK(saw_ring);

  // A second stellad on the same socket fails at once with a clear message.
  const auto second = test::run_command(STELLAD, {"run", "--config", d.config()}, 20s);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("another stellad (pid " + std::to_string(d.proc().pid()) + ")") != std::string::npos);
  CHECK(test::run_command(STELLAD, {"status", "--socket", d.socket()}).exit_code == 0);  // still serving

  CHECK(d.stop(SIGTERM) == 0);
  CHECK_FALSE(fs::exists(d.socket()));
  for (const auto& n : {ring, block, blob}) CHECK(platform::MappedObject::exists(n));  // kept by default
  CHECK(d.log().find("SIGTERM") != std::string::npos);
  const auto gone = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  CHECK(gone.exit_code == 2);
  CHECK(gone.err.find("unreachable") != std::string::npos);
  CHECK(test::run_command(STELLAD, {"status", "--config", d.config()}).exit_code == 2);
}

TEST_CASE("stellad run: remove_on_exit unlinks the segments on SIGINT; a bad config fails at once") {
  const std::string ring = test::unique_name("rox");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("rox", kFast + "remove_on_exit = true\n", test::ring_segment(ring, "4KiB", "overwrite"));
  d.start();
  CHECK(platform::MappedObject::exists(ring));
  CHECK(d.stop(SIGINT) == 0);
  CHECK_FALSE(platform::MappedObject::exists(ring));

  test::Stellad bad("bad", "reap_interval = \"fast\"\n", test::ring_segment(ring, "5000", "overwrite"));
  bad.launch();
  CHECK(bad.proc().wait(20s) == 1);
  CHECK(bad.log().find("stella.toml:5:17") != std::string::npos);  // reap_interval, with its position
  CHECK(bad.log().find("power of two") != std::string::npos);
  CHECK_FALSE(platform::MappedObject::exists(ring));
}

TEST_CASE("stellad permissions: the configured modes, nothing world-writable by default, adopted modes corrected") {
  const std::string plain = test::unique_name("perm-plain"), tight = test::unique_name("perm-tight"),
                    blob = test::unique_name("perm-blob"), adopted = test::unique_name("perm-adopt");
  test::SegmentCleanup cleanup({plain, tight, blob, adopted});
  {
    // Exists before stellad, with another mode: adopted, and its mode set to the config's.
    RingOptions o;
    o.permissions.mode = 0600;
    MultiWriterCircularBuffer pre(adopted, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, o);
  }
  REQUIRE(test::file_mode(test::shm_path(adopted)) == 0600);
  test::Stellad d("perm", kFast,
                  test::ring_segment(plain, "4KiB", "overwrite") +
                      test::ring_segment(tight, "4KiB", "block", "permissions = \"0600\"") +
                      test::blob_segment(blob, "1KiB") + test::ring_segment(adopted, "4KiB", "overwrite"));
  d.start();
  CHECK(test::file_mode(test::shm_path(plain)) == 0660);
  CHECK(test::file_mode(test::shm_path(blob)) == 0660);
  CHECK(test::file_mode(test::shm_path(tight)) == 0600);
  CHECK(test::file_mode(test::shm_path(adopted)) == 0660);
  CHECK(d.log().find("segment '" + adopted + "': adopted") != std::string::npos);
  CHECK(test::file_mode(d.socket()) == 0660);
  for (const auto& p : {test::shm_path(plain), test::shm_path(tight), test::shm_path(blob), test::shm_path(adopted),
                        d.socket(), d.socket() + ".lock"}) {
    CAPTURE(p);
    const int mode = test::file_mode(p);
    REQUIRE(mode >= 0);
    CHECK((mode & 0002) == 0);
  }
  CHECK(d.stop() == 0);

  // socket_mode is applied too.
  test::Stellad tight_socket("perm2", kFast + "socket_mode = \"0600\"\n", test::ring_segment(plain, "4KiB", "overwrite"));
  tight_socket.start();
  CHECK(test::file_mode(tight_socket.socket()) == 0600);
}

TEST_CASE("stellad reload (SIGHUP): adds, removes (drained or at once), updates in place, refuses incompatible changes") {
  const std::string keep = test::unique_name("rl-keep"), drain = test::unique_name("rl-drain"),
                    now = test::unique_name("rl-now"), grow = test::unique_name("rl-grow"),
                    added = test::unique_name("rl-added");
  test::SegmentCleanup cleanup({keep, drain, now, grow, added});
  test::Stellad d("reload", kFast,
                  test::ring_segment(keep, "4KiB", "overwrite") + test::ring_segment(drain, "4KiB", "overwrite") +
                      test::blob_segment(now, "1KiB", "remove = \"immediately\"") +
                      test::ring_segment(grow, "4KiB", "block"));
  d.start();
  auto reader = std::make_unique<LockFreeBufferReader>(drain);  // keeps `drain` in use

  d.rewrite_config(kFast, test::ring_segment(keep, "4KiB", "overwrite", "permissions = \"0640\"") +
                              test::ring_segment(grow, "8KiB", "block") + test::ring_segment(added, "4KiB", "overwrite"));
  d.proc().kill(SIGHUP);
  REQUIRE(d.log_contains("reload: done"));
  INFO(d.log());
  CHECK(platform::MappedObject::exists(added));
  CHECK_FALSE(platform::MappedObject::exists(now));
  CHECK(platform::MappedObject::exists(drain));
  CHECK(test::file_mode(test::shm_path(keep)) == 0640);
  CHECK(d.log().find("segment '" + grow + "': reload: change refused") != std::string::npos);
  CHECK(d.log().find("capacity changes from 4 KiB to 8 KiB") != std::string::npos);
  CHECK(d.log().find("segment '" + now + "': unlinked") != std::string::npos);
  const auto s = d.status();
  for (const auto& seg : s.segments) {
    if (seg.name == grow) {
      CHECK(seg.capacity == 4096);
      CHECK(seg.detail.find("reload refused") != std::string::npos);
    }
    if (seg.name == drain) CHECK(seg.state == "draining");
  }
  CHECK(s.daemon.reloads == 1);

  // The drained ring goes once its last reader leaves.
  reader.reset();
  CHECK(test::eventually([&] { return !platform::MappedObject::exists(drain); }));
  CHECK(d.log_contains("segment '" + drain + "': unlinked"));

  // An invalid config is refused as a whole; the running one is kept.
  d.rewrite_config("reap_interval = \"soon\"\n", "");
  d.proc().kill(SIGHUP);
  REQUIRE(d.log_contains("reload refused"));
  CHECK(platform::MappedObject::exists(added));
  CHECK(d.status().daemon.reloads == 1);
  CHECK(d.stop() == 0);
}

TEST_CASE("stellad startup: an existing incompatible segment is refused, kept, and reported as degraded") {
  const std::string name = test::unique_name("incompat");
  test::SegmentCleanup cleanup(name);
  { MultiWriterCircularBuffer pre(name, SharedMemoryMode::Create, 8192); }
  test::Stellad d("incompat", kFast, test::ring_segment(name, "4KiB", "overwrite"));
  d.start();
  CHECK(d.log().find("segment '" + name + "': refused") != std::string::npos);
  const auto r = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("refused") != std::string::npos);
  MultiWriterCircularBuffer still(name, SharedMemoryMode::Open);
  CHECK(still.capacity() == 8192);
}

TEST_CASE("stellad schema: configured segments carry their type tag; typed clients are checked; a retyped one is refused") {
  const std::string ring = test::unique_name("typed-ring");
  const std::string blob = test::unique_name("typed-blob");
  test::SegmentCleanup cleanup({ring, blob});
  {
    test::Stellad d("typed", kFast,
                    test::ring_segment(ring, "4KiB", "overwrite", "schema = \"market.Quote@2\"") +
                        test::blob_segment(blob, "64B", "schema = \"config.Limits@1\""));
    d.start();
    ReaderOptions typed;
    typed.schema = "market.Quote@2";
    LockFreeBufferReader ok(ring, typed);
    CHECK(ok.schema() == "market.Quote@2");
    typed.schema = "market.Quote@3";
    try {
      LockFreeBufferReader wrong(ring, typed);
      FAIL("a reader of another type opened the ring");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::type_mismatch);
    }
    CHECK(SharedMemory(blob, SharedMemoryMode::Open).schema() == "config.Limits@1");
    CHECK(d.stop() == 0);
  }
  // The same names with another tag: the existing segments do not fit, so they are refused
  // (and kept), naming both tags.
  test::Stellad d("retyped", kFast,
                  test::ring_segment(ring, "4KiB", "overwrite", "schema = \"market.Quote@3\"") +
                      test::blob_segment(blob, "64B"));
  d.start();
  CHECK(d.log_contains("segment '" + ring + "': refused"));
  CHECK(d.log_contains("schema is \"market.Quote@2\", the config says \"market.Quote@3\""));
  CHECK(d.log_contains("schema is \"config.Limits@1\", the config says none"));
  const auto r = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  CHECK(r.exit_code == 1);
  CHECK(LockFreeBufferReader(ring).schema() == "market.Quote@2");  // left as it was
}

TEST_CASE("stellad socket abuse: 100 concurrent clients, 1 MiB of garbage, a silent client; the daemon keeps serving") {
  const std::string ring = test::unique_name("abuse");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("abuse", kFast + "client_timeout = \"500ms\"\n", test::ring_segment(ring, "4KiB", "overwrite"));
  d.start();
  const std::uint64_t passes_before = d.status().daemon.reap_passes;

  // A client that connects and never sends anything, held open for the whole test.
  const int silent = connect_raw(d.socket());
  // A client that sends 1 MiB of garbage (no newline): refused after 4 KiB, the rest bounces.
  std::thread garbage([&] {
    const int fd = connect_raw(d.socket());
    const std::string junk(1 << 20, 'G');
    std::size_t sent = 0;
    while (sent < junk.size()) {
      const ssize_t n = ::send(fd, junk.data() + sent, junk.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the daemon closed the connection
      sent += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  // 100 concurrent status clients, released together.
  std::atomic<int> ok{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 100; ++i) {
    clients.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      const auto r = daemon::query(d.socket(), proto::Command::status, 30s);
      if (r.response && r.response->ok && r.response->status) ok.fetch_add(1);
    });
  }
  go.store(true);
  for (auto& t : clients) t.join();
  garbage.join();
  CHECK(ok.load() == 100);

  // The silent client is dropped at its deadline: EOF, no answer.
  const auto silent_end = read_all(silent, 10s);
  ::close(silent);
  CHECK(silent_end.has_value());

  // Garbage and malformed requests get an error response naming the problem.
  CHECK(round_trip(d.socket(), std::string(8000, 'x')).find("too_large") != std::string::npos);
  CHECK(round_trip(d.socket(), "STELLA 1 frobnicate\n").find("unknown_command") != std::string::npos);
  CHECK(round_trip(d.socket(), "STELLA 9 status\n").find("unsupported_version") != std::string::npos);
  CHECK(round_trip(d.socket(), "GET / HTTP/1.0\r\n\r\n").find("malformed") != std::string::npos);
  CHECK(round_trip(d.socket(), "STELLA 1 ping\n").find("\"ok\":true") != std::string::npos);

  // The reaper ran on throughout, and the daemon still answers.
  CHECK(test::eventually([&] { return d.status().daemon.reap_passes > passes_before + 5; }));
  CHECK(d.proc().running());
  CHECK(d.stop() == 0);
}

TEST_CASE("stellad sd_notify: READY=1 once every segment exists, WATCHDOG=1, STATUS=, RELOADING=1, STOPPING=1") {
  const std::string ring = test::unique_name("notify-ring"), blob = test::unique_name("notify-blob");
  test::SegmentCleanup cleanup({ring, blob});
  test::TempDir dir("notify");
  const std::string path = dir.file("notify.sock");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  auto next_message = [&](std::chrono::milliseconds timeout) -> std::optional<std::string> {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  };
  // Waits for a message containing `needle` (others, e.g. WATCHDOG=1, may come first).
  auto expect = [&](const std::string& needle) -> std::optional<std::string> {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = next_message(1s);
      if (m && m->find(needle) != std::string::npos) return m;
    }
    return std::nullopt;
  };

  test::Stellad d("notify", kFast, test::ring_segment(ring, "4KiB", "block") + test::blob_segment(blob, "1KiB"),
                  {{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "200000"}});
  d.launch();
  const auto ready = expect("READY=1");
  REQUIRE(ready);
  // Ready means every segment exists already.
  CHECK(platform::MappedObject::exists(ring));
  CHECK(platform::MappedObject::exists(blob));
  CHECK(ready->find("STATUS=2 segment(s)") != std::string::npos);
  CHECK(expect("WATCHDOG=1"));
  CHECK(expect("WATCHDOG=1"));  // and again: it comes from the reaper loop

  d.proc().kill(SIGHUP);
  CHECK(expect("RELOADING=1"));
  CHECK(expect("READY=1"));
  d.proc().kill(SIGTERM);
  CHECK(expect("STOPPING=1"));
  CHECK(d.proc().wait(20s) == 0);
  ::close(fd);
}

TEST_CASE("stellad startup: a socket directory it cannot create or write fails at once, naming the path") {
  // A regular file where the socket's directory should be: no directory can be made there
  // and nothing can be bound in it, whoever runs stellad (root included).
  test::TempDir dir("unwritable");
  test::write_file(dir.file("not-a-directory"), "x");
  const std::string ring = test::unique_name("sockdir");
  test::SegmentCleanup cleanup(ring);
  const std::string socket = dir.file("not-a-directory") + "/stellad.sock";
  test::write_file(dir.file("stella.toml"), "version = 1\n[daemon]\nsocket = \"" + socket + "\"\nlock_file = \"" +
                                                dir.file("stellad.lock") + "\"\n" +
                                                test::ring_segment(ring, "4KiB", "overwrite"));
  const auto r = test::run_command(STELLAD, {"run", "--config", dir.file("stella.toml")}, 30s);
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(socket) != std::string::npos);  // the message names the path it could not serve
}
