// Liveness tokens (stella/common/platform/liveness.hpp) with real processes: a holder killed
// with kill -9 reads dead, a forked child never passes for its parent, and (as root) holders
// and testers in separate pid namespaces see each other exactly as in one.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "stella/common/platform/liveness.hpp"
#include "test_support.hpp"

using namespace stella::platform;
using stella::test::Child;
using stella::test::ReadyPipe;

namespace {

std::string hex(LivenessToken t) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, t);
  return buf;
}

// "key=value" words of a line.
std::optional<std::string> field(const std::string& line, const std::string& key) {
  return stella::test::result_field("RESULT " + line, key);
}

LivenessToken parse_hex(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 16); }

// Blocks until nobody holds the token's lock (F_SETLKW): the synchronisation point
// "the holder is gone" for a holder we cannot waitpid (one inside a pid namespace).
void wait_until_released(LivenessToken token) {
  const std::string path = liveness_token_name(token);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // already removed: released
  struct flock fl {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_len = 1;
  while (::fcntl(fd, F_SETLKW, &fl) != 0) {
  }
  ::close(fd);
}

bool have_unshare() { return ::access("/usr/bin/unshare", X_OK) == 0; }

}  // namespace

TEST_CASE("liveness: this process's token is nonzero, stable, alive, and names its pid") {
  const LivenessToken t = current_liveness_token();
  CHECK(t != kNoLivenessToken);
  CHECK(current_liveness_token() == t);
  CHECK(token_liveness(t) == Liveness::alive);
  CHECK(liveness_token_pid(t) == std::optional<std::uint64_t>(static_cast<std::uint64_t>(::getpid())));
  struct stat st {};
  REQUIRE(::stat(liveness_token_name(t).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0444);
  CHECK_FALSE(remove_dead_token(t));  // never our own
  CHECK(token_liveness(t) == Liveness::alive);
}

TEST_CASE("liveness: a holder killed with kill -9 reads dead; its file can then be collected") {
  ReadyPipe ready;
  Child holder(LIVENESS_HELPER, {"hold", std::to_string(ready.write_fd())});
  ready.close_write();
  const auto line = ready.read_line();
  REQUIRE(line);
  const LivenessToken t = parse_hex(field(*line, "token").value_or("0"));
  REQUIRE(t != kNoLivenessToken);
  CHECK(t != current_liveness_token());
  CHECK(token_liveness(t) == Liveness::alive);
  CHECK(liveness_token_pid(t) == std::optional<std::uint64_t>(static_cast<std::uint64_t>(holder.pid())));
  CHECK_FALSE(remove_dead_token(t));  // alive: not removed
  CHECK(token_liveness(t) == Liveness::alive);

  holder.kill(SIGKILL);
  REQUIRE(holder.wait() == 128 + SIGKILL);
  // waitpid returned: the kernel has closed every descriptor of the holder, lock included.
  CHECK(token_liveness(t) == Liveness::dead);
  CHECK(::access(liveness_token_name(t).c_str(), F_OK) == 0);  // the file outlives a kill -9...
  CHECK(remove_dead_token(t));                                  // ...until collected
  CHECK(::access(liveness_token_name(t).c_str(), F_OK) != 0);
  CHECK(token_liveness(t) == Liveness::dead);  // and stays dead
}

TEST_CASE("liveness: a holder that exits normally removes its token") {
  ReadyPipe ready;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const LivenessToken mine = current_liveness_token();
    stella::test::signal_ready(ready.write_fd(), "token=" + hex(mine));
    std::exit(0);  // atexit handlers run: the token goes with the process
  }
  ready.close_write();
  const auto line = ready.read_line();
  REQUIRE(line);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const LivenessToken t = parse_hex(field(*line, "token").value_or("0"));
  CHECK(token_liveness(t) == Liveness::dead);
  CHECK(::access(liveness_token_name(t).c_str(), F_OK) != 0);
}

TEST_CASE("liveness: a forked child never passes for its parent once the parent is killed") {
  ReadyPipe ready;
  Child parent(LIVENESS_HELPER, {"fork-hold", std::to_string(ready.write_fd())});
  ready.close_write();
  const auto line = ready.read_line();
  REQUIRE(line);
  const LivenessToken t = parse_hex(field(*line, "token").value_or("0"));
  const pid_t child = static_cast<pid_t>(std::stol(field(*line, "child").value_or("0")));
  REQUIRE(t != kNoLivenessToken);
  REQUIRE(child > 0);
  CHECK(token_liveness(t) == Liveness::alive);
  parent.kill(SIGKILL);
  REQUIRE(parent.wait() == 128 + SIGKILL);
  // The child still runs and inherited every descriptor of its parent but the token's.
  CHECK(::kill(child, 0) == 0);
  CHECK(token_liveness(t) == Liveness::dead);
  ::kill(child, SIGKILL);
  CHECK(remove_dead_token(t));
}

TEST_CASE("liveness: a forked child takes a token of its own and sees its parent alive") {
  ReadyPipe ready;
  Child parent(LIVENESS_HELPER, {"fork-own", std::to_string(ready.write_fd())});
  ready.close_write();
  const auto line = ready.read_line();
  REQUIRE(line);
  const LivenessToken p = parse_hex(field(*line, "parent").value_or("0"));
  const LivenessToken c = parse_hex(field(*line, "child").value_or("0"));
  CHECK(p != kNoLivenessToken);
  CHECK(c != kNoLivenessToken);
  CHECK(p != c);
  CHECK(field(*line, "parent_in_child") == std::optional<std::string>("alive"));
  parent.kill(SIGKILL);
  (void)parent.wait();
  CHECK(token_liveness(p) == Liveness::dead);
  // The child exits on its own once its parent is gone (its exit is not ours to wait for):
  // its token goes with it, within a bounded time.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (token_liveness(c) != Liveness::dead && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition, with a deadline
  }
  CHECK(token_liveness(c) == Liveness::dead);
}

TEST_CASE("liveness: releasing the token makes it dead at once; the next one is new") {
  const LivenessToken old = current_liveness_token();
  release_liveness_token();
  CHECK(token_liveness(old) == Liveness::dead);
  const LivenessToken fresh = current_liveness_token();
  CHECK(fresh != old);
  CHECK(token_liveness(fresh) == Liveness::alive);
}

TEST_CASE("liveness: garbage tokens are dead, never alive, and never hang") {
  CHECK(token_liveness(kNoLivenessToken) == Liveness::dead);
  CHECK(token_liveness(0x0123456789abcdefull) == Liveness::dead);  // never created
  CHECK_FALSE(liveness_token_pid(0x0123456789abcdefull).has_value());
  // Objects planted under a token's name were never tokens: a symbolic link (to our own,
  // live token) is not followed, a FIFO is not opened for reading (that would block).
  const LivenessToken link_token = 0x00000000feed0001ull, fifo_token = 0x00000000feed0002ull;
  const std::string link = liveness_token_name(link_token), fifo = liveness_token_name(fifo_token);
  REQUIRE(::symlink(liveness_token_name(current_liveness_token()).c_str(), link.c_str()) == 0);
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK(token_liveness(link_token) == Liveness::dead);
  CHECK(token_liveness(fifo_token) == Liveness::dead);
  ::unlink(link.c_str());
  ::unlink(fifo.c_str());
}

TEST_CASE("liveness: a token this process may not look at is unknown, not dead; another user's reads alive") {
  if (::geteuid() != 0) {
    MESSAGE("SKIPPED: needs root (to switch to nobody in a child; a 0000 token file blocks only non-root)");
    return;
  }
  const LivenessToken t = 0x00000000feed0003ull;
  const std::string path = liveness_token_name(t);
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0000);
  REQUIRE(fd >= 0);
  ::close(fd);
  const LivenessToken mine = current_liveness_token();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(20);
    if (token_liveness(t) != Liveness::unknown) ::_exit(21);
    // Another user's live token (root's, the parent's: 0444) reads alive all the same.
    ::_exit(token_liveness(mine) == Liveness::alive ? 0 : 22);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  ::unlink(path.c_str());
}

TEST_CASE("liveness: remove_dead_tokens collects dead tokens and leaves live ones") {
  ReadyPipe ready_a, ready_b;  // one each: their lines may come in either order
  Child a(LIVENESS_HELPER, {"hold", std::to_string(ready_a.write_fd())});
  Child b(LIVENESS_HELPER, {"hold", std::to_string(ready_b.write_fd())});
  ready_a.close_write();
  ready_b.close_write();
  const auto la = ready_a.read_line(), lb = ready_b.read_line();
  REQUIRE(la);
  REQUIRE(lb);
  const LivenessToken ta = parse_hex(field(*la, "token").value_or("0"));
  const LivenessToken tb = parse_hex(field(*lb, "token").value_or("0"));
  a.kill(SIGKILL);
  (void)a.wait();
  CHECK(remove_dead_tokens() >= 1);
  CHECK(::access(liveness_token_name(ta).c_str(), F_OK) != 0);
  CHECK(token_liveness(tb) == Liveness::alive);
  CHECK(token_liveness(current_liveness_token()) == Liveness::alive);
  CHECK(::access(liveness_token_name(current_liveness_token()).c_str(), F_OK) == 0);
}

TEST_CASE("liveness: holders and testers in separate pid namespaces (unshare --pid --fork --mount-proc)") {
  if (::geteuid() != 0 || !have_unshare()) {
    MESSAGE("SKIPPED: needs root and /usr/bin/unshare (to make pid namespaces)");
    return;
  }
  ReadyPipe ready;
  // --kill-child: when unshare is killed, the holder (pid 1 of its namespace) is killed too.
  Child ns_holder("/usr/bin/unshare", {"--pid", "--fork", "--mount-proc", "--kill-child", LIVENESS_HELPER, "hold",
                                       std::to_string(ready.write_fd())});
  ready.close_write();
  const auto line = ready.read_line();
  if (!line) {
    MESSAGE("SKIPPED: unshare --pid --fork --mount-proc was refused here (no CAP_SYS_ADMIN in this container?)");
    return;
  }
  const LivenessToken t = parse_hex(field(*line, "token").value_or("0"));
  REQUIRE(t != kNoLivenessToken);
  // The holder numbers itself pid 1: a pid-based check would look at our own pid 1 (init).
  CHECK(liveness_token_pid(t) == std::optional<std::uint64_t>(1));
  CHECK(token_liveness(t) == Liveness::alive);

  // A tester in a pid namespace of its own sees both the namespaced holder and us alive.
  auto check_in_namespace = [](LivenessToken token) {
    const std::string out = stella::test::temp_path("liveness-ns");
    Child checker("/usr/bin/unshare", {"--pid", "--fork", "--mount-proc", LIVENESS_HELPER, "check", hex(token)}, out);
    const auto code = checker.wait(std::chrono::seconds(30));
    std::string verdict = stella::test::read_file(out);
    ::unlink(out.c_str());
    if (!verdict.empty() && verdict.back() == '\n') verdict.pop_back();
    return code == std::optional<int>(0) ? verdict : "exit " + std::to_string(code.value_or(-1));
  };
  CHECK(check_in_namespace(t) == "alive");
  CHECK(check_in_namespace(current_liveness_token()) == "alive");

  ns_holder.kill(SIGKILL);
  (void)ns_holder.wait();
  wait_until_released(t);  // the holder's death, as the kernel sees it
  CHECK(token_liveness(t) == Liveness::dead);
  CHECK(check_in_namespace(t) == "dead");
  CHECK(remove_dead_token(t));
}
