// Loss accounting, shared by RingReader and RingPeeker: each message carries its writer
// slot's generation (low 8 bits) and that writer's own sequence number, so a gap in one
// writer's sequence is exactly what this reader missed from it. Values read from the slots
// are only compared and counted; the slot index comes from the geometry read at attach
// (or, for a record word, is checked against it).
#include "ring_internal.hpp"

namespace stella::ring::detail {

void track_writers_from(const RingView& v, std::uint64_t cursor, std::vector<WriterTrack>& tracks) noexcept {
  for (std::uint32_t i = 0; i < v.geo.max_writers && i < tracks.size(); ++i) {
    const WriterSlot& w = v.writers[i];
    WriterTrack& track = tracks[i];
    const std::uint64_t o = w.owner.load(mo_acquire);
    track.generation = owner_generation(o) & 0xFF;
    const std::uint64_t count = w.messages_written.load(mo_acquire);  // pairs with commit's release
    const std::uint64_t last = w.last_commit.load(mo_relaxed);
    track.known = last == kNoPosition || last < cursor;
    track.next_seq = count;
    if (owner_state(o) == SlotState::free) {  // the next writer here is a new generation
      track.generation = (owner_generation(o) + 1) & 0xFF;
      track.next_seq = 0;
      track.known = true;
    }
  }
}

std::uint64_t account_writers_below(const RingView& v, std::uint64_t position, std::vector<WriterTrack>& tracks) noexcept {
  std::uint64_t lost = 0;
  for (std::uint32_t i = 0; i < v.geo.max_writers && i < tracks.size(); ++i) {
    const WriterSlot& w = v.writers[i];
    WriterTrack& track = tracks[i];
    const std::uint64_t o1 = w.owner.load(mo_acquire);
    const std::uint64_t gen = owner_generation(o1) & 0xFF;
    if (track.generation != gen) track = WriterTrack{gen, 0, true};  // a writer new since we last looked
    if (!track.known) continue;
    const std::uint64_t count = w.messages_written.load(mo_acquire);  // pairs with commit's release
    const std::uint64_t last = w.last_commit.load(mo_relaxed);
    if (w.owner.load(mo_relaxed) != o1) continue;  // taken over while we looked
    if ((last == kNoPosition || last < position) && count > track.next_seq) {
      lost += count - track.next_seq;
      track.next_seq = count;
    }
  }
  return lost;
}

std::uint64_t count_message(std::vector<WriterTrack>& tracks, std::uint64_t word, std::uint64_t writer_seq) noexcept {
  const std::uint32_t slot = word_writer(word);
  if (slot >= tracks.size()) return 0;  // not a slot of this ring: nothing to account
  WriterTrack& track = tracks[slot];
  const std::uint64_t gen = word_generation(word);
  if (track.generation != gen) track = WriterTrack{gen, 0, true};  // a writer new since we looked
  const std::uint64_t lost = track.known && writer_seq > track.next_seq ? writer_seq - track.next_seq : 0;
  track.next_seq = writer_seq + 1;
  track.known = true;
  return lost;
}

std::optional<std::uint64_t> given_up_at(const RingView& v, std::uint64_t position) noexcept {
  for (std::uint32_t i = 0; i < v.geo.max_writers; ++i) {
    const WriterSlot& w = v.writers[i];
    const std::uint64_t g = w.given_up_pos.load(mo_acquire) & ~(std::uint64_t{1} << 63);
    if (g != position) continue;
    const std::uint64_t size = w.given_up_size.load(mo_relaxed);
    if (size == 0 || size % kRecordAlignment != 0 || size > v.geo.capacity / 2) return std::nullopt;
    return size;
  }
  return std::nullopt;
}

}  // namespace stella::ring::detail
