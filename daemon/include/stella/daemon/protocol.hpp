// The control protocol of stellad's health socket: the one definition shared by the daemon
// and by `stellad status` (which links none of the daemon's modules, only this one).
//
// One request per connection, one response, then the daemon closes the connection.
//
//   request  = "STELLA" SP version SP command LF        (at most kMaxRequestBytes bytes)
//   version  = 1*9DIGIT                                  (the protocol version the client speaks)
//   command  = "ping" | "status" | "version"
//
// A CR before the LF is tolerated. Anything else (another byte, a second line, a missing
// LF within kMaxRequestBytes) is refused with an error response naming the problem. The
// daemon answers with the version the client asked for, so the protocol is append-only:
// a new command or a new field never changes what an old client gets.
//
//   response = one JSON object, then LF, then the daemon closes the connection
//     {"protocol":1,"ok":true,"command":"status","result":{...}}
//     {"protocol":1,"ok":false,"error":{"code":"unknown_command","message":"..."}}
//
// parse_request() is pure and total: any bytes at all give a Request or a RequestError,
// never a crash or an exception other than std::bad_alloc (a fuzzer calls it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stella::daemon::protocol {

/// The newest protocol version this build speaks (requests may ask for 1..kVersion).
inline constexpr std::uint32_t kVersion = 1;
/// A request longer than this is refused (too_large) without reading further.
inline constexpr std::size_t kMaxRequestBytes = 4096;
/// A client refuses a response longer than this (a status of many segments stays far below).
inline constexpr std::size_t kMaxResponseBytes = std::size_t{16} << 20;
inline constexpr std::string_view kMagic = "STELLA";

enum class Command { ping, status, version };
[[nodiscard]] std::string_view to_string(Command command) noexcept;

struct Request {
  std::uint32_t version = kVersion;
  Command command = Command::status;
  friend bool operator==(const Request&, const Request&) = default;
};

enum class ErrorCode {
  incomplete,           // no LF yet (the server waits for more, up to its deadline)
  too_large,            // more than kMaxRequestBytes without a complete request
  malformed,            // not "STELLA <version> <command>"
  unsupported_version,  // a version this daemon does not speak
  unknown_command,
  timeout,              // the client did not finish its request in time
  internal,             // the daemon failed to answer
};
[[nodiscard]] std::string_view to_string(ErrorCode code) noexcept;

struct RequestError {
  ErrorCode code = ErrorCode::malformed;
  std::string message;
};

/// A Request, or why the bytes are not one. Total: never throws (but std::bad_alloc).
struct ParseResult {
  std::optional<Request> request;
  RequestError error;  // meaningful when !request
  [[nodiscard]] bool ok() const noexcept { return request.has_value(); }
};

/// Parses the bytes a client sent so far. `bytes` may hold anything; a complete request is
/// one line ending in LF with nothing after it.
[[nodiscard]] ParseResult parse_request(std::string_view bytes);
/// The bytes a client sends for `command`.
[[nodiscard]] std::string format_request(Command command, std::uint32_t version = kVersion);

// ---- The status report (the "result" of the status command) ----

struct ReaderReport {
  std::uint32_t slot = 0;
  std::uint64_t pid = 0;
  std::uint64_t cursor = 0;
  std::uint64_t lag_bytes = 0;  // write position - cursor
  std::uint64_t messages_read = 0;
  std::uint64_t messages_lost = 0;
  bool evicted = false;
  bool lagging = false;  // lag_bytes above the segment's lag warning
  friend bool operator==(const ReaderReport&, const ReaderReport&) = default;
};

struct WriterReport {
  std::uint32_t slot = 0;
  std::uint64_t pid = 0;
  std::uint64_t messages_written = 0;
  friend bool operator==(const WriterReport&, const WriterReport&) = default;
};

/// Repairs recorded in a ring (by any recoverer: stellad's reaper or a waiting client).
struct RecoveryCounters {
  std::uint64_t records_repaired = 0;  // claimed records of dead writers made abandoned
  std::uint64_t turns_recovered = 0;   // writer turns taken back from dead holders
  std::uint64_t readers_reaped = 0;    // dead readers' slots freed
  std::uint64_t writers_reaped = 0;    // dead writers' slots freed
  std::uint64_t readers_evicted = 0;   // stalled live readers evicted
  [[nodiscard]] std::uint64_t recoveries() const noexcept { return records_repaired + turns_recovered; }
  [[nodiscard]] std::uint64_t reaps() const noexcept { return readers_reaped + writers_reaped; }
  friend bool operator==(const RecoveryCounters&, const RecoveryCounters&) = default;
};

struct SegmentReport {
  std::string name;
  std::string kind;    // "ring" | "blob"
  // "live" | "draining" (removed from the config, unlinked once unused) | "refused" (an
  // existing segment that does not fit the config, left alone) | "missing" (configured, but
  // it does not exist: creating it failed, or it was unlinked behind stellad's back).
  // Old clients show an unknown state as text; "missing" was added after "refused".
  std::string state;
  std::string detail;  // why refused or missing, etc.
  std::uint64_t capacity = 0;
  std::string mode;    // rings: "overwrite" | "block"; blobs: ""
  std::uint32_t permissions = 0;  // file mode bits of the object
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t max_readers = 0;
  std::uint32_t max_writers = 0;
  std::uint64_t write_position = 0;  // rings: tail; blobs: 0
  std::uint64_t oldest_position = 0; // rings: head
  std::uint64_t next_sequence = 0;   // rings: sequence number of the next record
  std::uint64_t generation = 0;      // blobs: values published so far
  std::uint64_t lag_warning_bytes = 0;
  std::vector<WriterReport> writers;
  std::vector<ReaderReport> readers;
  RecoveryCounters counters;
  std::uint64_t daemon_recoveries = 0;     // reaper passes of this stellad that repaired something here
  std::uint64_t last_recovery_unix_ns = 0; // 0: never
  // Appended: what holds this ring up right now, one sentence each, starting with its kind:
  // "stalled: " (a live writer stopped inside a record), "stuck: " (the oldest unread
  // position holds no record that any writer claims), "corrupt: " (a reader met bytes that
  // are no record); older daemons send none.
  std::vector<std::string> stalls;
  friend bool operator==(const SegmentReport&, const SegmentReport&) = default;
};

struct DaemonReport {
  std::string version;
  std::uint64_t pid = 0;
  std::uint64_t uptime_ns = 0;
  std::string config;
  std::string socket;
  std::uint64_t reap_interval_ns = 0;
  std::uint64_t reap_passes = 0;
  std::uint64_t last_reap_age_ns = 0;
  std::uint64_t reloads = 0;
  // ---- Appended fields: a daemon built before them sends none, and decoding takes the
  // defaults below (the protocol stays append-only; old clients ignore what they do not know).
  std::uint64_t reload_failures = 0;      // reloads refused (invalid config) or failed in part
  /// When the reload that failed last failed, while no reload has succeeded since (the
  /// running config is not the file on disk: degraded); 0 otherwise.
  std::uint64_t reload_failed_unix_ns = 0;
  std::string reload_error;               // why it failed ("" with reload_failed_unix_ns 0)
  std::uint64_t connections = 0;          // status connections open now
  std::uint64_t max_connections = 0;      // the cap in force (0: not reported)
  std::uint64_t open_files_limit = 0;     // the soft RLIMIT_NOFILE (0: none applies)
  std::uint64_t connections_dropped = 0;  // closed unanswered: deadline, bad request, or evicted
  std::uint64_t connections_evicted = 0;  // of those, dropped for a newer connection (cap reached)
  std::uint64_t accept_failures = 0;      // accepts that failed (EMFILE and the like)
  friend bool operator==(const DaemonReport&, const DaemonReport&) = default;
};

/// A [[bridge]] to NATS (absent from the JSON of daemons without bridges support: decoding
/// treats a missing "bridges" as none). Counters count messages since the bridge started.
struct BridgeReport {
  std::string name;
  std::string segment;
  std::string direction;  // "out" | "in"
  std::string subject;
  std::string stream;     // JetStream stream, "" for core NATS
  std::string state;      // "connected" | "connecting" | "disconnected" | "failed" | "unavailable"
  std::string detail;     // the last error, or why unavailable
  bool connected = false;
  std::uint64_t forwarded = 0;       // out: acknowledged by NATS (core: published); in: written into the ring
  std::uint64_t received = 0;        // out: read from the ring; in: received from NATS
  std::uint64_t lost = 0;            // out: lost to lapping (overwritten unread); in: dropped (slow consumer, too large)
  std::uint64_t publish_errors = 0;  // out: failed or timed-out publishes (retried); in: failed fetches and acks
  std::uint64_t reconnects = 0;
  std::uint64_t duplicates = 0;      // out: retries the stream already had (msg-id); in: redeliveries skipped
  std::uint64_t backpressure_waits = 0;  // in: writes that timed out on a full Block ring (then retried)
  std::uint64_t in_flight = 0;       // out: read from the ring, not yet acknowledged
  friend bool operator==(const BridgeReport&, const BridgeReport&) = default;
};

enum class Health { healthy, degraded };
[[nodiscard]] std::string_view to_string(Health health) noexcept;

struct StatusReport {
  DaemonReport daemon;
  Health health = Health::healthy;
  std::vector<std::string> problems;  // why degraded, one readable line each
  std::vector<SegmentReport> segments;
  std::vector<BridgeReport> bridges;
  friend bool operator==(const StatusReport&, const StatusReport&) = default;
};

/// Thrown by the decode functions for a response that is not valid JSON of this protocol.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- Responses ----

[[nodiscard]] std::string encode_error(const RequestError& error, std::uint32_t version = kVersion);
[[nodiscard]] std::string encode_pong(std::uint32_t version = kVersion);
[[nodiscard]] std::string encode_version(std::string_view daemon_version, std::uint32_t version = kVersion);
[[nodiscard]] std::string encode_status(const StatusReport& report, std::uint32_t version = kVersion);
/// The status report alone as JSON (what `stellad status --json` prints).
[[nodiscard]] std::string status_json(const StatusReport& report, bool pretty);

/// A decoded response.
struct Response {
  std::uint32_t protocol = 0;
  bool ok = false;
  std::string command;
  std::optional<RequestError> error;
  std::optional<StatusReport> status;  // for the status command
  std::string version;                 // for the version command
};
/// Throws ProtocolError naming what is wrong.
[[nodiscard]] Response decode_response(std::string_view bytes);

/// The readable table of `stellad status`.
[[nodiscard]] std::string render_table(const StatusReport& report);
/// `stellad status`'s exit statuses (README "stellad status: exit codes"); command-line
/// errors exit with CLI11's codes, 100 and up.
inline constexpr int kExitHealthy = 0;
inline constexpr int kExitDegraded = 1;
/// No valid status in time: nothing listens, the connection or the answer timed out, or
/// what answered is not a stellad speaking this protocol.
inline constexpr int kExitUnreachable = 2;
/// `--config FILE` does not say which socket (unreadable, not TOML, daemon.socket invalid):
/// the daemon was not asked, so nothing is known of its health.
inline constexpr int kExitNoSocket = 3;
/// kExitHealthy or kExitDegraded.
[[nodiscard]] int exit_status(Health health) noexcept;

}  // namespace stella::daemon::protocol
