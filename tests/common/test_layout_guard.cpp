// ABI guard: the shared layouts, member by member, against the numbers recorded for the
// current kLayoutVersion. Changing a shared struct without bumping kLayoutVersion (and
// recording the new numbers here) fails this test; processes built from different
// versions would otherwise misread each other's memory.
#include <doctest/doctest.h>

#include <cstddef>

#include "stella/common/blob.hpp"
#include "stella/common/ring_layout.hpp"
#include "stella/common/segment.hpp"

using namespace stella;

static_assert(kLayoutVersion == 4,
              "kLayoutVersion changed: record the new layout's offsets below for the new version");

TEST_CASE("segment header layout matches version 4 (version 1 plus the type tag, which the checksum covers)") {
  CHECK(sizeof(SegmentHeader) == 128);
  CHECK(offsetof(SegmentHeader, magic) == 0);
  CHECK(offsetof(SegmentHeader, layout_version) == 8);
  CHECK(offsetof(SegmentHeader, kind) == 12);
  CHECK(offsetof(SegmentHeader, total_size) == 16);
  CHECK(offsetof(SegmentHeader, area_offset) == 24);
  CHECK(offsetof(SegmentHeader, area_size) == 32);
  CHECK(offsetof(SegmentHeader, params) == 40);
  CHECK(offsetof(SegmentHeader, creator_pid) == 72);
  CHECK(offsetof(SegmentHeader, creator_start_time) == 80);
  CHECK(offsetof(SegmentHeader, created_unix_ns) == 88);
  CHECK(offsetof(SegmentHeader, checksum) == 96);
  CHECK(offsetof(SegmentHeader, schema) == 104);
  CHECK(kMaxSchemaLength == 24);
  CHECK(kSegmentMagic == 0x6D5E414C4C455453ull);
}

TEST_CASE("ring layout matches version 4 (unchanged since 3: version 2 plus the slots' liveness tokens)") {
  using namespace stella::ring;
  CHECK(sizeof(RecordHeader) == 16);
  CHECK(offsetof(RecordHeader, word) == 0);
  CHECK(offsetof(RecordHeader, stamp) == 8);
  CHECK(sizeof(MessageHeader) == 16);
  CHECK(offsetof(MessageHeader, writer_seq) == 0);
  CHECK(kMessageHeaderSize == 32);
  CHECK(stamp_of(0) == 1);
  CHECK(make_word(5, RecordType::message, 3, 0x1A7) == 0xA700'0302'0000'0005ull);
  CHECK(record_size(64) == 96);
  CHECK(sizeof(RingControl) == 512);
  CHECK(offsetof(RingControl, capacity) == 0);
  CHECK(offsetof(RingControl, max_message) == 8);
  CHECK(offsetof(RingControl, max_readers) == 16);
  CHECK(offsetof(RingControl, max_writers) == 20);
  CHECK(offsetof(RingControl, behavior) == 24);
  CHECK(offsetof(RingControl, reader_slots_offset) == 32);
  CHECK(offsetof(RingControl, writer_slots_offset) == 40);
  CHECK(offsetof(RingControl, data_offset) == 48);
  CHECK(offsetof(RingControl, tail) == 64);
  CHECK(offsetof(RingControl, data_epoch) == 128);
  CHECK(offsetof(RingControl, data_waiters) == 132);
  CHECK(offsetof(RingControl, space_epoch) == 192);
  CHECK(offsetof(RingControl, space_waiters) == 196);
  CHECK(offsetof(RingControl, readers_generation) == 200);
  CHECK(offsetof(RingControl, space_wanted) == 208);
  CHECK(offsetof(RingControl, lap_epoch) == 256);
  CHECK(offsetof(RingControl, lap_waiters) == 260);
  CHECK(offsetof(RingControl, records_repaired) == 320);
  CHECK(offsetof(RingControl, reservations_given_up) == 328);
  CHECK(offsetof(RingControl, last_recovery_unix_ns) == 368);
  CHECK(offsetof(RingControl, messages_retired) == 376);
  CHECK(sizeof(ReaderSlot) == 128);
  CHECK(offsetof(ReaderSlot, owner) == 0);
  CHECK(offsetof(ReaderSlot, cursor) == 8);
  CHECK(offsetof(ReaderSlot, pid) == 16);
  CHECK(offsetof(ReaderSlot, start_time) == 24);
  CHECK(offsetof(ReaderSlot, messages_read) == 32);
  CHECK(offsetof(ReaderSlot, messages_lost) == 40);
  CHECK(offsetof(ReaderSlot, progress_ns) == 48);
  CHECK(offsetof(ReaderSlot, sleeping) == 56);
  CHECK(offsetof(ReaderSlot, records_skipped) == 64);
  CHECK(offsetof(ReaderSlot, token) == 72);
  CHECK(offsetof(ReaderSlot, corrupt_at) == 80);
  CHECK(sizeof(WriterSlot) == 128);
  CHECK(offsetof(WriterSlot, owner) == 0);
  CHECK(offsetof(WriterSlot, pid) == 8);
  CHECK(offsetof(WriterSlot, start_time) == 16);
  CHECK(offsetof(WriterSlot, reserve_bound) == 24);
  CHECK(offsetof(WriterSlot, reserve_pos) == 32);
  CHECK(offsetof(WriterSlot, reserve_size) == 40);
  CHECK(offsetof(WriterSlot, messages_written) == 48);
  CHECK(offsetof(WriterSlot, last_commit) == 56);
  CHECK(offsetof(WriterSlot, given_up_pos) == 64);
  CHECK(offsetof(WriterSlot, given_up_size) == 72);
  CHECK(offsetof(WriterSlot, token) == 80);
}

TEST_CASE("blob layout matches version 4 (unchanged since 1)") {
  CHECK(sizeof(BlobControl) == 64);
  CHECK(sizeof(BlobSlotHeader) == 64);
  CHECK(offsetof(BlobSlotHeader, sequence) == 0);
  CHECK(offsetof(BlobSlotHeader, size) == 8);
  CHECK(offsetof(BlobSlotHeader, generation) == 16);
  CHECK(sizeof(BlobArea) == 192);
}
