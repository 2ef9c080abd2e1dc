// The status report to and from JSON (protocol_json.cpp declares the fields).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "stella/daemon/protocol.hpp"

namespace stella::daemon::protocol::wire {

/// The report as a client of protocol `version` reads it.
[[nodiscard]] nlohmann::json status_to_json(const StatusReport& report, std::uint32_t version = kVersion);
/// The report a daemon of protocol `peer` sent; throws ProtocolError.
[[nodiscard]] StatusReport status_from_json(const nlohmann::json& j, std::uint32_t peer);

}  // namespace stella::daemon::protocol::wire
