// stellad's configuration: the TOML schema, its defaults and its validation.
//
// Loading never stops at the first problem and never falls back to a default for a value
// that is present but wrong: every problem (unknown key, wrong type, bad unit, impossible
// size, duplicate name, unknown group, ...) is collected with file:line:column and the key
// path, and loading throws one ConfigError carrying all of them. docs/configuration.md
// documents every key; this header is the in-memory form of the same schema.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "stella/common/platform/shm.hpp"
#include "stella/config/format.hpp"

namespace stella::config {

using Duration = std::chrono::nanoseconds;

/// The only config format version this build reads (`version = 1`).
inline constexpr std::int64_t kSupportedVersion = 1;

/// Limits of the schema ("impossible sizes" are errors, not clamps).
/// A ring's capacity is a power of two in [kMinRingCapacity, kMaxCapacity]: the ring maps
/// a 64-bit position to an offset by masking (position & (capacity - 1)).
inline constexpr std::uint64_t kMinRingCapacity = 4 * 1024;                     // 4 KiB
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 40;           // 1 TiB
inline constexpr std::uint32_t kMaxReaders = 1024;
inline constexpr std::uint32_t kMaxWriters = 1024;
/// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
inline constexpr std::size_t kMaxSocketPathLength = 107;

enum class LogLevel { trace, debug, info, warn, error, critical, off };
enum class SegmentKind { ring, blob };
enum class RingMode { overwrite, block };
/// What a SIGHUP reload does with a segment that left the config.
enum class RemovePolicy { when_unused, immediately };

[[nodiscard]] std::string_view to_string(LogLevel level) noexcept;
[[nodiscard]] std::string_view to_string(SegmentKind kind) noexcept;
[[nodiscard]] std::string_view to_string(RingMode mode) noexcept;
[[nodiscard]] std::string_view to_string(RemovePolicy policy) noexcept;

/// When a reader counts as lagging ("degraded" in `stellad status`): either a fraction of
/// the ring's capacity (a TOML float in (0, 1]) or an absolute number of bytes (a size).
struct LagThreshold {
  enum class Unit { fraction, bytes };
  Unit unit = Unit::fraction;
  double fraction = 0.5;    // used when unit == fraction
  std::uint64_t bytes = 0;  // used when unit == bytes

  /// The threshold in bytes for a ring of `capacity` bytes.
  [[nodiscard]] std::uint64_t bytes_for(std::uint64_t capacity) const noexcept;
  friend bool operator==(const LagThreshold&, const LagThreshold&) = default;
};

/// A user or group named in the config, resolved (getpwnam/getgrnam) while loading.
struct Account {
  std::string name;  // as written (a numeric id is kept as its decimal text)
  std::uint32_t id = 0;
  friend bool operator==(const Account&, const Account&) = default;
};

/// Where something was written: 1-based line and column (0 when not from a file).
struct Location {
  int line = 0;
  int column = 0;
  friend bool operator==(const Location&, const Location&) = default;
};

/// Where stellad serves Prometheus metrics over HTTP (`[daemon] metrics`).
struct MetricsAddress {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 9464;
  [[nodiscard]] bool loopback() const;
  /// "127.0.0.1:9464", "[::1]:9464".
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const MetricsAddress&, const MetricsAddress&) = default;
};

struct DaemonConfig {
  std::filesystem::path socket = "/run/stella/stellad.sock";
  std::uint32_t socket_mode = 0660;
  Duration reap_interval = std::chrono::milliseconds(100);
  LogLevel log_level = LogLevel::info;
  /// How long without progress before a crashed writer's record or a dead reader is repaired.
  Duration recovery_timeout = std::chrono::seconds(1);
  /// Evict a live reader stalled longer than this; nullopt ("off", the default) never evicts.
  std::optional<Duration> stall_eviction;
  /// Default lag threshold for every ring (a segment may override it).
  LagThreshold lag_warning;
  /// A recovery (repair, reap or eviction) this recent makes `stellad status` report degraded.
  Duration health_window = std::chrono::seconds(10);
  /// A status client must send its whole request within this long, or it is dropped.
  Duration client_timeout = std::chrono::seconds(2);
  /// Unlink every configured segment when stellad stops on SIGTERM/SIGINT.
  bool remove_on_exit = false;
  /// nullopt: the socket path + ".lock" (see effective_lock_file()).
  std::optional<std::filesystem::path> lock_file;
  std::optional<std::filesystem::path> pid_file;
  /// Prometheus metrics over HTTP; nullopt ("off", the default) serves none.
  std::optional<MetricsAddress> metrics;
  /// Where stellad creates its segments (and processes their liveness tokens): a directory
  /// it owns, mode segment_dir_mode | sticky, with an ACL entry giving rwx to every group a
  /// segment names (group, reader_group, writer_group). nullopt: /dev/shm. Clients find it
  /// through STELLA_SEGMENT_DIR (docs/robustness.md, "Names cannot be squatted").
  std::optional<std::filesystem::path> segment_dir;
  std::uint32_t segment_dir_mode = 0700;

  /// lock_file when set, otherwise socket + ".lock" — also after the socket is overridden
  /// on the command line.
  [[nodiscard]] std::filesystem::path effective_lock_file() const;
};

struct SegmentConfig {
  std::string name;
  SegmentKind kind = SegmentKind::ring;
  std::uint64_t capacity = 0;  // bytes
  RingMode mode = RingMode::overwrite;  // rings only
  std::uint32_t max_readers = 32;       // rings only
  std::uint32_t max_writers = 64;       // rings only
  std::uint32_t permissions = 0660;     // file mode bits, never setuid/setgid/sticky
  std::optional<Account> owner;
  std::optional<Account> group;
  std::optional<Account> reader_group;  // may open readers (an ACL entry; docs/robustness.md)
  std::optional<Account> writer_group;  // may open writers (an ACL entry)
  bool allow_world_writable = false;    // permissions may carry the 0002 bit
  RemovePolicy remove = RemovePolicy::when_unused;
  std::optional<LagThreshold> lag_warning;  // rings only; nullopt: daemon.lag_warning
  std::string schema;                   // the payload type tag stored at creation ("" untyped)
  Location location;                        // of this segment's [[segment]] header

  /// Mode, owner, group and the reader/writer group ACL entries as the platform layer
  /// applies them at creation.
  [[nodiscard]] platform::Permissions platform_permissions() const;
  /// This segment's lag threshold: its own, or the daemon's default.
  [[nodiscard]] LagThreshold effective_lag_warning(const DaemonConfig& daemon) const;
};

/// A [[bridge]] table: one ring forwarded to a NATS subject ("out") or one NATS subject
/// written into a ring ("in"), run by stellad on a thread of its own (docs/configuration.md
/// "[[bridge]]", README "Bridges to NATS").
enum class BridgeDirection { out, in };
[[nodiscard]] std::string_view to_string(BridgeDirection direction) noexcept;
/// Where an out-bridge's reader starts: the oldest message still in the ring, or the next one.
enum class BridgeStart { oldest, latest };
[[nodiscard]] std::string_view to_string(BridgeStart start) noexcept;

inline constexpr std::string_view kDefaultNatsUrl = "nats://127.0.0.1:4222";

struct BridgeConfig {
  std::string name;     // "<segment>-<direction>" unless set; unique among bridges
  std::string segment;  // a [[segment]] of kind ring in the same config
  BridgeDirection direction = BridgeDirection::out;
  std::string subject;  // out: a literal subject; in: may hold the wildcards * and >
  std::vector<std::string> urls{std::string(kDefaultNatsUrl)};  // servers, tried in order
  bool jetstream = false;
  std::string stream;            // jetstream: the stream (created with `replicas` if missing)
  std::uint32_t replicas = 1;    // jetstream: replicas of a stream the bridge creates
  std::string durable;           // in + jetstream: durable pull consumer ("stella-<name>" unless set)
  BridgeStart start = BridgeStart::latest;  // out: oldest by default with jetstream (msg-id dedup)
  Duration ack_timeout = std::chrono::seconds(5);   // out + jetstream: wait for a publish ack
  std::uint32_t max_in_flight = 1024;               // out: read from the ring but not yet acked
  std::uint32_t batch = 256;                        // in + jetstream: messages per fetch
  Duration write_timeout = std::chrono::seconds(1); // in: one wait for space on a Block ring
  Duration reconnect_wait = std::chrono::milliseconds(250);  // first backoff step (doubles)
  Duration max_reconnect_wait = std::chrono::seconds(5);     // backoff ceiling
  Location location;  // of this bridge's [[bridge]] header
  /// Equal settings (the location aside): a reload keeps such a bridge running. Every key
  /// of config/src/bridge_keys.cpp takes part.
  friend bool operator==(const BridgeConfig& a, const BridgeConfig& b);
};

struct Config {
  std::string source;  // file name (or source name) used in messages
  std::int64_t version = kSupportedVersion;
  DaemonConfig daemon;
  std::vector<SegmentConfig> segments;  // in file order; names are unique
  std::vector<BridgeConfig> bridges;    // in file order; names are unique

  /// The segment of that name, or nullptr.
  [[nodiscard]] const SegmentConfig* find(std::string_view name) const noexcept;
};

/// One problem in a config. `key` is the key path, e.g. "segment[1].capacity" (segments
/// are indexed from 0 in file order) or "" for a problem with the file as a whole.
struct Problem {
  std::string file;
  int line = 0;  // 1-based; 0 when the problem has no position (e.g. unreadable file)
  int column = 0;
  std::string key;
  std::string message;

  /// "file:line:column: key: message" (parts that are absent are left out).
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const Problem&, const Problem&) = default;
};

/// Thrown by the load_* functions; what() lists every problem, one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Problem> problems);
  [[nodiscard]] const std::vector<Problem>& problems() const noexcept { return problems_; }

 private:
  std::vector<Problem> problems_;
};

/// Loads and validates; throws ConfigError listing every problem.
[[nodiscard]] Config load_file(const std::filesystem::path& path);
[[nodiscard]] Config load_string(std::string_view text, std::string source_name);
[[nodiscard]] Config load_stream(std::istream& in, std::string source_name);

/// Every problem, sorted by position; empty when the config is valid. Never throws for
/// a bad config (only std::bad_alloc and the like escape).
[[nodiscard]] std::vector<Problem> check_file(const std::filesystem::path& path);
[[nodiscard]] std::vector<Problem> check_string(std::string_view text, std::string source_name);

/// The result of checking: the config when valid, else the problems. This is the core
/// of `stellad check-config`.
struct CheckResult {
  std::optional<Config> config;
  std::vector<Problem> problems;
  [[nodiscard]] bool ok() const noexcept { return config.has_value(); }
};
[[nodiscard]] CheckResult check(std::string_view text, std::string source_name);
[[nodiscard]] CheckResult check_path(const std::filesystem::path& path);

/// A readable multi-line summary of a valid config (what check-config prints).
[[nodiscard]] std::string summary(const Config& config);

/// Why `proposed` cannot replace the live segment `live` in place (a SIGHUP reload), or
/// nullopt when it can. The layout is fixed at creation, so a change of kind, capacity,
/// mode, max_readers or max_writers is incompatible. Permissions, owner, group, reader and
/// writer groups, remove policy and lag threshold are compatible: the daemon applies them
/// to the live segment (fchmod/fchown) without recreating it.
[[nodiscard]] std::optional<std::string> incompatible_change(const SegmentConfig& live,
                                                             const SegmentConfig& proposed);

/// True when two segment configs agree on every setting (their locations aside).
[[nodiscard]] bool same_settings(const SegmentConfig& a, const SegmentConfig& b);

/// What a reload from `live` to `proposed` means for each segment, by name.
struct ReloadPlan {
  std::vector<std::string> added;      // in proposed only: create
  std::vector<std::string> removed;    // in live only: unlink per its remove policy
  std::vector<std::string> updated;    // compatible changes to apply in place
  struct Refused {
    std::string name;
    std::string reason;
  };
  std::vector<Refused> refused;        // incompatible: keep the old segment, log the reason
  std::vector<std::string> unchanged;
};
[[nodiscard]] ReloadPlan plan_reload(const Config& live, const Config& proposed);

/// Value syntax shared with the daemon's command line and messages.
/// Parse a size ("64MiB", "4096", "1GB"); on failure returns nullopt and sets *why.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text, std::string* why = nullptr);
/// Parse a duration ("100ms", "2s", "1m", "500us", "1h", "10ns"); a bare number is refused.
[[nodiscard]] std::optional<Duration> parse_duration(std::string_view text, std::string* why = nullptr);
/// Parse a metrics address: "HOST:PORT" (HOST an IPv4 literal, "[IPv6]" or "localhost"),
/// or a bare "PORT"/":PORT" on 127.0.0.1. Ports are 1-65535.
[[nodiscard]] std::optional<MetricsAddress> parse_metrics_address(std::string_view text, std::string* why = nullptr);
// format_size, format_duration and format_mode: stella/config/format.hpp (included above).

}  // namespace stella::config
