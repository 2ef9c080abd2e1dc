// Kernel baselines: a pipe, a Unix-domain SOCK_SEQPACKET socket pair, a POSIX message
// queue. Each is given its best ordinary configuration (large buffers, one syscall per
// message on the writer side, buffered reads where the mechanism is a byte stream) so
// that the ratios flatter none of them unfairly.
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../fd_io.hpp"
#include "baselines.hpp"

namespace stella::bench {
namespace {

constexpr int kPipeBufferBytes = 1 << 20;  // the default /proc/sys/fs/pipe-max-size
constexpr int kSocketBufferBytes = 4 << 20;

class FdPair {
 public:
  FdPair(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}
  ~FdPair() {
    ::close(read_fd_);
    ::close(write_fd_);
  }
  FdPair(const FdPair&) = delete;
  FdPair& operator=(const FdPair&) = delete;
  [[nodiscard]] int read_fd() const { return read_fd_; }
  [[nodiscard]] int write_fd() const { return write_fd_; }

 private:
  int read_fd_;
  int write_fd_;
};

// ---- pipe: a byte stream, so every message is framed by a 4-byte length -----------------

class PipeWriter final : public WriterEndpoint {
 public:
  explicit PipeWriter(int fd) : fd_(fd) {}
  void send(ConstBytes message) override {
    auto length = static_cast<std::uint32_t>(message.size());
    iovec iov[2] = {{&length, sizeof length},
                    {const_cast<std::byte*>(message.data()), message.size()}};
    writev_all(fd_, iov, 2);  // one syscall; atomic up to PIPE_BUF with many writers
  }

 private:
  int fd_;
};

class PipeReader final : public ReaderEndpoint {
 public:
  PipeReader(int fd, std::size_t message_size)
      : fd_(fd), buffer_(2 * static_cast<std::size_t>(kPipeBufferBytes)), message_(message_size) {}
  std::optional<ConstBytes> receive() override {
    fill(sizeof(std::uint32_t));
    std::uint32_t length = 0;
    std::memcpy(&length, buffer_.data() + begin_, sizeof length);
    fill(sizeof length + length);
    if (length > message_.size()) throw std::runtime_error("pipe: message larger than the buffer");
    std::memcpy(message_.data(), buffer_.data() + begin_ + sizeof length, length);
    begin_ += sizeof length + length;
    return ConstBytes{message_.data(), length};
  }

 private:
  // Makes at least `need` bytes available at begin_, reading as much as the pipe has.
  void fill(std::size_t need) {
    if (end_ - begin_ >= need) return;
    if (begin_ + need > buffer_.size()) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    end_ += read_at_least(fd_, buffer_.data() + end_, begin_ + need - end_, buffer_.size() - end_);
  }

  int fd_;
  std::vector<std::byte> buffer_;
  std::vector<std::byte> message_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class PipeChannel final : public Channel {
 public:
  explicit PipeChannel(const ChannelConfig& config) : fds_(make()), message_size_(config.message_size) {}
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<PipeWriter>(fds_.write_fd()); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override {
    return std::make_unique<PipeReader>(fds_.read_fd(), message_size_);
  }

 private:
  static FdPair make() {
    int fds[2];
    if (::pipe(fds) != 0) throw_errno("pipe");
    ::fcntl(fds[1], F_SETPIPE_SZ, kPipeBufferBytes);  // best effort: the default is 64 KiB
    return {fds[0], fds[1]};
  }
  FdPair fds_;
  std::size_t message_size_;
};

// ---- Unix-domain SOCK_SEQPACKET: message boundaries kept by the kernel ------------------

class SocketWriter final : public WriterEndpoint {
 public:
  explicit SocketWriter(int fd) : fd_(fd) {}
  void send(ConstBytes message) override {
    while (::send(fd_, message.data(), message.size(), 0) < 0) {
      if (errno != EINTR) throw_errno("send");
    }
  }

 private:
  int fd_;
};

class SocketReader final : public ReaderEndpoint {
 public:
  SocketReader(int fd, std::size_t message_size) : fd_(fd), message_(message_size) {}
  std::optional<ConstBytes> receive() override {
    for (;;) {
      const ssize_t n = ::recv(fd_, message_.data(), message_.size(), 0);
      if (n >= 0) return ConstBytes{message_.data(), static_cast<std::size_t>(n)};
      if (errno != EINTR) throw_errno("recv");
    }
  }

 private:
  int fd_;
  std::vector<std::byte> message_;
};

class SocketChannel final : public Channel {
 public:
  explicit SocketChannel(const ChannelConfig& config) : fds_(make()), message_size_(config.message_size) {}
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<SocketWriter>(fds_.write_fd()); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override {
    return std::make_unique<SocketReader>(fds_.read_fd(), message_size_);
  }

 private:
  static FdPair make() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) throw_errno("socketpair");
    for (int fd : fds) {  // best effort, bounded by net.core.{w,r}mem_max
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
    }
    return {fds[0], fds[1]};
  }
  FdPair fds_;
  std::size_t message_size_;
};

// ---- POSIX message queue ------------------------------------------------------------------

struct MqLimits {
  long msgsize_max = read_proc_long("/proc/sys/fs/mqueue/msgsize_max");
  long msg_max = read_proc_long("/proc/sys/fs/mqueue/msg_max");
};

const MqLimits& mq_limits() {
  static const MqLimits limits;
  return limits;
}

class MqWriter final : public WriterEndpoint {
 public:
  explicit MqWriter(mqd_t q) : q_(q) {}
  void send(ConstBytes message) override {
    while (::mq_send(q_, reinterpret_cast<const char*>(message.data()), message.size(), 0) != 0) {
      if (errno != EINTR) throw_errno("mq_send");
    }
  }

 private:
  mqd_t q_;
};

class MqReader final : public ReaderEndpoint {
 public:
  MqReader(mqd_t q, std::size_t message_size) : q_(q), message_(message_size) {}
  std::optional<ConstBytes> receive() override {
    for (;;) {
      const ssize_t n = ::mq_receive(q_, reinterpret_cast<char*>(message_.data()), message_.size(), nullptr);
      if (n >= 0) return ConstBytes{message_.data(), static_cast<std::size_t>(n)};
      if (errno != EINTR) throw_errno("mq_receive");
    }
  }

 private:
  mqd_t q_;
  std::vector<std::byte> message_;
};

class MqChannel final : public Channel {
 public:
  explicit MqChannel(const ChannelConfig& config)
      : name_("/" + config.unique_name + "-mq"), message_size_(config.message_size) {
    mq_attr attr{};
    // The largest queue an unprivileged user may create: depth is capped by msg_max.
    attr.mq_maxmsg = mq_limits().msg_max > 0 ? mq_limits().msg_max : 10;
    attr.mq_msgsize = static_cast<long>(config.message_size);
    q_ = ::mq_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (q_ == static_cast<mqd_t>(-1)) throw_errno("mq_open " + name_);
  }
  ~MqChannel() override {
    ::mq_close(q_);
    ::mq_unlink(name_.c_str());
  }
  MqChannel(const MqChannel&) = delete;
  MqChannel& operator=(const MqChannel&) = delete;
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<MqWriter>(q_); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override { return std::make_unique<MqReader>(q_, message_size_); }

 private:
  std::string name_;
  std::size_t message_size_;
  mqd_t q_{};
};

}  // namespace

TransportInfo pipe_transport() {
  TransportInfo info;
  info.name = "pipe";
  info.kind = TransportKind::baseline_os;
  info.description = "pipe(2) with a 1 MiB buffer; 4-byte length + payload in one writev, buffered reads";
  info.multi_writer = true;
  info.unsupported = [](const ChannelConfig& c) -> std::optional<std::string> {
    if (c.writers > 1 && c.message_size + 4 > PIPE_BUF)
      return "pipe writes above PIPE_BUF (4096 B) interleave between writers";
    return std::nullopt;
  };
  info.create = [](const ChannelConfig& c) { return std::make_unique<PipeChannel>(c); };
  return info;
}

TransportInfo unix_seqpacket_transport() {
  TransportInfo info;
  info.name = "unix-socket";
  info.kind = TransportKind::baseline_os;
  info.description = "socketpair(AF_UNIX, SOCK_SEQPACKET) with 4 MiB socket buffers; one send/recv per message";
  info.multi_writer = true;
  info.unsupported = [](const ChannelConfig&) -> std::optional<std::string> { return std::nullopt; };
  info.create = [](const ChannelConfig& c) { return std::make_unique<SocketChannel>(c); };
  return info;
}

TransportInfo posix_mq_transport() {
  TransportInfo info;
  info.name = "posix-mq";
  info.kind = TransportKind::baseline_os;
  info.description = "POSIX message queue (mq_send/mq_receive), depth and size at the unprivileged limits";
  info.multi_writer = true;
  info.unsupported = [](const ChannelConfig& c) -> std::optional<std::string> {
    const long limit = mq_limits().msgsize_max;
    if (limit > 0 && c.message_size > static_cast<std::size_t>(limit))
      return "message larger than /proc/sys/fs/mqueue/msgsize_max (" + std::to_string(limit) + " B)";
    return std::nullopt;
  };
  info.create = [](const ChannelConfig& c) { return std::make_unique<MqChannel>(c); };
  return info;
}

}  // namespace stella::bench
