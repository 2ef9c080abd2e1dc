// The status report's JSON: every field declared once (protocol_fields.hpp explains the
// rules). Fields added within version 1 after its first release are `appended`: daemons
// built before them send none, and decoding takes the defaults of protocol.hpp.
#include "protocol_json.hpp"

#include <array>

#include "protocol_fields.hpp"

namespace stella::daemon::protocol::wire {

namespace {

constexpr auto kAppended = Presence::appended;

using RR = ReaderReport;
constexpr std::array<Field<RR>, 8> kReaderFields{{
    member<&RR::slot>("slot"),
    member<&RR::pid>("pid"),
    member<&RR::cursor>("cursor"),
    member<&RR::lag_bytes>("lag_bytes"),
    member<&RR::messages_read>("read"),
    member<&RR::messages_lost>("lost"),
    member<&RR::evicted>("evicted"),
    member<&RR::lagging>("lagging"),
}};

using WR = WriterReport;
constexpr std::array<Field<WR>, 3> kWriterFields{{
    member<&WR::slot>("slot"),
    member<&WR::pid>("pid"),
    member<&WR::messages_written>("written"),
}};

// A counter of SegmentReport::counters.
template <std::uint64_t RecoveryCounters::*M>
constexpr Field<SegmentReport> counter(const char* name) {
  return {name, 1, Presence::required, [](json& v, const SegmentReport& s, std::uint32_t) { v = s.counters.*M; },
          [](const json& v, SegmentReport& s, std::uint32_t, const char* key) {
            s.counters.*M = value_as<std::uint64_t>(v, key);
          }};
}
// A figure derived from the counters: written for readers of the JSON, never read back.
template <std::uint64_t (RecoveryCounters::*F)() const noexcept>
constexpr Field<SegmentReport> derived(const char* name) {
  return {name, 1, Presence::required, [](json& v, const SegmentReport& s, std::uint32_t) { v = (s.counters.*F)(); },
          nullptr};
}

using SR = SegmentReport;
constexpr std::array<Field<SR>, 28> kSegmentFields{{
    member<&SR::name>("name"),
    member<&SR::kind>("kind"),
    member<&SR::state>("state"),
    member<&SR::detail>("detail"),
    member<&SR::capacity>("capacity"),
    member<&SR::mode>("mode"),
    member<&SR::permissions>("permissions"),
    member<&SR::uid>("uid"),
    member<&SR::gid>("gid"),
    member<&SR::max_readers>("max_readers"),
    member<&SR::max_writers>("max_writers"),
    member<&SR::write_position>("write_position"),
    member<&SR::oldest_position>("oldest_position"),
    member<&SR::next_sequence>("next_sequence"),
    member<&SR::generation>("generation"),
    member<&SR::lag_warning_bytes>("lag_warning_bytes"),
    list<&SR::writers, kWriterFields>("writers"),
    list<&SR::readers, kReaderFields>("readers"),
    counter<&RecoveryCounters::records_repaired>("records_repaired"),
    counter<&RecoveryCounters::turns_recovered>("turns_recovered"),
    counter<&RecoveryCounters::readers_reaped>("readers_reaped"),
    counter<&RecoveryCounters::writers_reaped>("writers_reaped"),
    counter<&RecoveryCounters::readers_evicted>("readers_evicted"),
    derived<&RecoveryCounters::recoveries>("recoveries"),
    derived<&RecoveryCounters::reaps>("reaps"),
    member<&SR::daemon_recoveries>("daemon_recoveries"),
    member<&SR::last_recovery_unix_ns>("last_recovery_unix_ns"),
    member<&SR::stalls>("stalls", 1, kAppended),
}};

using BR = BridgeReport;
constexpr std::array<Field<BR>, 16> kBridgeFields{{
    member<&BR::name>("name"),
    member<&BR::segment>("segment"),
    member<&BR::direction>("direction"),
    member<&BR::subject>("subject"),
    member<&BR::stream>("stream"),
    member<&BR::state>("state"),
    member<&BR::detail>("detail"),
    member<&BR::connected>("connected"),
    member<&BR::forwarded>("forwarded"),
    member<&BR::received>("received"),
    member<&BR::lost>("lost"),
    member<&BR::publish_errors>("publish_errors"),
    member<&BR::reconnects>("reconnects"),
    member<&BR::duplicates>("duplicates"),
    member<&BR::backpressure_waits>("backpressure_waits"),
    member<&BR::in_flight>("in_flight"),
}};

using DR = DaemonReport;
constexpr std::array<Field<DR>, 18> kDaemonFields{{
    member<&DR::version>("version"),
    member<&DR::pid>("pid"),
    member<&DR::uptime_ns>("uptime_ns"),
    member<&DR::config>("config"),
    member<&DR::socket>("socket"),
    member<&DR::reap_interval_ns>("reap_interval_ns"),
    member<&DR::reap_passes>("reap_passes"),
    member<&DR::last_reap_age_ns>("last_reap_age_ns"),
    member<&DR::reloads>("reloads"),
    member<&DR::reload_failures>("reload_failures", 1, kAppended),
    member<&DR::reload_failed_unix_ns>("reload_failed_unix_ns", 1, kAppended),
    member<&DR::reload_error>("reload_error", 1, kAppended),
    member<&DR::connections>("connections", 1, kAppended),
    member<&DR::max_connections>("max_connections", 1, kAppended),
    member<&DR::open_files_limit>("open_files_limit", 1, kAppended),
    member<&DR::connections_dropped>("connections_dropped", 1, kAppended),
    member<&DR::connections_evicted>("connections_evicted", 1, kAppended),
    member<&DR::accept_failures>("accept_failures", 1, kAppended),
}};

constexpr Field<StatusReport> kHealthField{
    "health", 1, Presence::required,
    [](json& v, const StatusReport& r, std::uint32_t) { v = to_string(r.health); },
    [](const json& v, StatusReport& r, std::uint32_t, const char* key) {
      const auto health = value_as<std::string>(v, key);
      if (health == "healthy") {
        r.health = Health::healthy;
      } else if (health == "degraded") {
        r.health = Health::degraded;
      } else {
        throw ProtocolError("unknown health \"" + health + "\"");
      }
    }};

constexpr Field<StatusReport> kDaemonField{
    "daemon", 1, Presence::required,
    [](json& v, const StatusReport& r, std::uint32_t version) {
      v = encode_object<DR>(kDaemonFields, r.daemon, version);
    },
    [](const json& v, StatusReport& r, std::uint32_t peer, const char*) {
      r.daemon = decode_object<DR>(kDaemonFields, v, peer, "daemon report");
    }};

using ST = StatusReport;
constexpr std::array<Field<ST>, 5> kStatusFields{{
    kDaemonField,
    kHealthField,
    member<&ST::problems>("problems"),
    list<&ST::segments, kSegmentFields>("segments"),
    list<&ST::bridges, kBridgeFields>("bridges", 1, kAppended),  // a daemon built before bridges sends none
}};

}  // namespace

json status_to_json(const StatusReport& report, std::uint32_t version) {
  return encode_object<ST>(kStatusFields, report, version);
}

StatusReport status_from_json(const json& j, std::uint32_t peer) {
  return decode_object<ST>(kStatusFields, j, peer, "status result");
}

}  // namespace stella::daemon::protocol::wire
