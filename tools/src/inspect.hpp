// What `stella ls`, `stat` and `hz` know about a segment, read without taking a reader or
// writer slot: the segment header, the OS object's owner and mode, and (rings) the ring's
// own counters through ring::status(). This is the one file of the tool that reads ring
// internals; everything else goes through the public client API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stella::tools {

/// A reader or writer slot in use.
struct SlotRow {
  std::uint32_t slot = 0;
  std::uint64_t pid = 0;
  bool alive = false;          // a process with that pid exists here (display only: not a death verdict)
  std::uint64_t messages = 0;  // writers: written; readers: read
  std::uint64_t cursor = 0;    // readers
  std::uint64_t lag_bytes = 0; // readers: write position - cursor
  std::uint64_t lost = 0;      // readers: overwritten before they were read
  bool evicted = false;        // readers
};

struct SegmentInfo {
  std::string name;
  std::string kind;     // "ring", "blob", or "?" when the segment cannot be validated
  std::string problem;  // why it cannot be opened or validated; "" when fine
  std::uint64_t capacity = 0;
  std::string mode;     // rings: "overwrite" | "block"
  std::string schema;   // the type tag ("" when untyped)
  std::uint32_t permissions = 0;
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t size_bytes = 0;  // of the OS object
  std::uint64_t creator_pid = 0;
  std::uint64_t created_unix_ns = 0;
  std::uint64_t write_position = 0;   // rings: tail
  std::uint64_t oldest_position = 0;  // rings: head
  std::uint64_t messages = 0;         // rings: sequence number of the next record (messages written, aborted ones included)
  std::uint64_t generation = 0;       // blobs: values written
  std::vector<SlotRow> writers, readers;
  std::uint64_t records_repaired = 0, readers_reaped = 0, writers_reaped = 0, readers_evicted = 0;
};

/// Names of every Stella segment on this host (POSIX: /dev/shm/stella.*), sorted.
[[nodiscard]] std::vector<std::string> list_segment_names();

/// Everything about `name`. Never throws for a problem with the segment (it is reported in
/// `problem`); throws stella::Error(not_found) if there is no such segment.
[[nodiscard]] SegmentInfo inspect(std::string_view name);

}  // namespace stella::tools
