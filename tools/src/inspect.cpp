#include "inspect.hpp"

#include <chrono>

#include "stella/common/error.hpp"
#include "stella/common/platform/process.hpp"
#include "stella/common/ring.hpp"
#include "stella/common/segment.hpp"
#include "stella/shared_memory.hpp"

namespace stella::tools {

namespace {

// A creator that has not published its header yet gets this long before we call it corrupt.
constexpr std::chrono::milliseconds kInitWait{50};

void fill_ring(SegmentInfo& info, const Segment& segment) {
  const ring::RingView view = ring::attach(segment);
  const ring::RingStatus s = ring::status(view);
  info.capacity = s.capacity;
  info.mode = s.behavior == ring::WriteBehavior::block ? "block" : "overwrite";
  info.write_position = s.tail;
  info.oldest_position = s.head;
  info.messages = s.next_seq;
  for (const ring::WriterInfo& w : s.writers) {
    SlotRow row;
    row.slot = w.slot;
    row.pid = w.pid;
    row.alive = w.alive;
    row.messages = w.messages_written;
    info.writers.push_back(row);
  }
  for (const ring::ReaderInfo& r : s.readers) {
    SlotRow row;
    row.slot = r.slot;
    row.pid = r.pid;
    row.alive = r.alive;
    row.messages = r.messages_read;
    row.cursor = r.cursor;
    row.lag_bytes = r.lag_bytes;
    row.lost = r.messages_lost;
    row.evicted = r.evicted;
    info.readers.push_back(row);
  }
  info.records_repaired = s.records_repaired;
  info.readers_reaped = s.readers_reaped;
  info.writers_reaped = s.writers_reaped;
  info.readers_evicted = s.readers_evicted;
}

}  // namespace

SegmentInfo inspect(std::string_view name) {
  SegmentInfo info;
  info.name = std::string(name);
  info.kind = "?";
  Segment segment;
  try {
    try {
      segment = Segment::open(name, SegmentKind::ring, platform::Access::read_only, kInitWait);
      info.kind = "ring";
    } catch (const Error& e) {
      if (e.code() != Errc::wrong_kind) throw;
      segment = Segment::open(name, SegmentKind::blob, platform::Access::read_only, kInitWait);
      info.kind = "blob";
    }
  } catch (const Error& e) {
    if (e.code() == Errc::not_found || e.code() == Errc::invalid_name) throw;
    info.problem = std::string(to_string(e.code())) + ": " + e.what();
    return info;
  }
  const SegmentHeader& h = segment.header();
  info.creator_pid = h.creator_pid;
  info.created_unix_ns = h.created_unix_ns;
  info.schema = std::string(segment.schema());
  try {
    const platform::ObjectAttributes a = segment.object().attributes();
    info.permissions = a.mode;
    info.uid = a.uid;
    info.gid = a.gid;
    info.size_bytes = a.size;
    if (info.kind == "ring") {
      fill_ring(info, segment);
    } else {
      const SharedMemory blob = SharedMemory::open_read_only(name);
      info.capacity = blob.capacity();
      info.generation = blob.generation();
    }
  } catch (const Error& e) {
    info.problem = std::string(to_string(e.code())) + ": " + e.what();
  }
  return info;
}

}  // namespace stella::tools
