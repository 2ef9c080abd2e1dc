#include "nats_fixture.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace stella::test {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  const int port = ntohs(addr.sin_port);
  REQUIRE(port != 4222);
  return port;
}

std::optional<std::string> http_get(int port, const std::string& path, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return response.substr(body + 4);
}

NatsCluster::NatsCluster(const std::string& tag, int nodes) : dir_(tag) {
  for (int i = 0; i < nodes; ++i) {
    NatsNode n;
    n.name = "n" + std::to_string(i);
    n.client_port = free_port();
    n.cluster_port = free_port();
    n.http_port = free_port();
    n.store = dir_.file(n.name + "-store");
    n.config = dir_.file(n.name + ".conf");
    nodes_.push_back(std::move(n));
  }
  for (NatsNode& n : nodes_) {
    std::string text = "server_name: " + n.name + "\nlisten: 127.0.0.1:" + std::to_string(n.client_port) +
                       "\nhttp: 127.0.0.1:" + std::to_string(n.http_port) + "\njetstream { store_dir: \"" + n.store +
                       "\" }\n";
    if (nodes_.size() > 1) {
      text += "cluster {\n  name: " + tag + "\n  listen: 127.0.0.1:" + std::to_string(n.cluster_port) + "\n  routes: [\n";
      for (const NatsNode& other : nodes_) {
        if (&other != &n) text += "    nats-route://127.0.0.1:" + std::to_string(other.cluster_port) + "\n";
      }
      text += "  ]\n}\n";
    }
    write_file(n.config, text);
  }
}

NatsCluster::~NatsCluster() {
  for (NatsNode& n : nodes_) {
    if (n.proc && n.proc->running()) {
      n.proc->kill(SIGTERM);
      if (!n.proc->wait(std::chrono::seconds(10))) n.proc->kill(SIGKILL);
    }
  }
}

void NatsCluster::start_node(std::size_t i) {
  NatsNode& n = nodes_[i];
  const std::string log = dir_.file(n.name + ".log");
  n.proc = std::make_unique<Proc>(NATS_SERVER, std::vector<std::string>{"-c", n.config}, log, log);
}

void NatsCluster::start() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) start_node(i);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    INFO(logs());
    REQUIRE(eventually([&] { return healthy(i); }, std::chrono::seconds(30)));
  }
}

void NatsCluster::kill(std::size_t i) {
  nodes_[i].proc->kill(SIGKILL);
  (void)nodes_[i].proc->wait(std::chrono::seconds(10));
}

bool NatsCluster::healthy(std::size_t i) const {
  const auto body = http_get(nodes_[i].http_port, "/healthz");
  return body && body->find("\"ok\"") != std::string::npos;
}

std::optional<std::size_t> NatsCluster::stream_leader(const std::string& stream) const {
  for (const NatsNode& n : nodes_) {
    if (!n.proc || !n.proc->running()) continue;
    const auto body = http_get(n.http_port, "/jsz?accounts=true&streams=true");
    if (!body) continue;
    const auto j = nlohmann::json::parse(*body, nullptr, false);
    if (j.is_discarded() || !j.contains("account_details")) continue;
    for (const auto& account : j["account_details"]) {
      if (!account.contains("stream_detail")) continue;
      for (const auto& s : account["stream_detail"]) {
        if (s.value("name", "") != stream || !s.contains("cluster")) continue;
        const std::string leader = s["cluster"].value("leader", "");
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
          if (nodes_[i].name == leader) return i;
        }
      }
    }
  }
  return std::nullopt;
}

std::string NatsCluster::urls_toml() const {
  std::string out = "[";
  for (std::size_t i = 0; i < nodes_.size(); ++i) out += (i > 0 ? ", \"" : "\"") + nodes_[i].url() + "\"";
  return out + "]";
}

std::string NatsCluster::logs() const {
  std::string out;
  for (const NatsNode& n : nodes_) {
    std::string text = read_file(dir_.path() + "/" + n.name + ".log");
    if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
    out += "--- " + n.name + "\n" + text;
  }
  return out;
}

}  // namespace stella::test
