// Playout: the queue of answer audio waiting for the speaker, and the truth of what was played.
// The session appends chunks of reply audio; the sound card (or the WAV timeline of `duet
// converse`) pulls fixed-size buffers in real time; clear() drops what is unplayed at once
// (barge-in) and says how much of the reply was heard. Thread-safe: one short critical section
// per call, no allocation in pull(). Must never return audio of a reply after it was cleared.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

namespace duet::dialog {

class Playout {
 public:
  struct PullResult {
    size_t answer_samples = 0;  // samples of answer audio written (the rest is silence)
    uint64_t started = 0;       // a reply whose first sample went out in this pull (0: none)
    size_t started_offset = 0;  // index of that first sample in the buffer
    uint64_t drained = 0;       // a reply whose last queued sample went out (0: none)
  };
  struct Cut {
    uint64_t reply = 0;   // the reply that was playing (0: none)
    int64_t played = 0;   // its samples already played
  };

  // Appends samples of reply `id` (replies play in the order they were appended).
  void append(uint64_t id, std::span<const float> samples);
  PullResult pull(std::span<float> out);
  // Drops everything not yet played.
  Cut clear();
  // Samples of reply `id` played so far (0 for an unknown reply).
  int64_t played(uint64_t id) const;
  // Answer samples queued and not yet played.
  size_t queued() const;
  // True once pull() was ever called (a real-time sink is attached).
  bool attached() const;

 private:
  struct Piece {
    uint64_t id;
    std::vector<float> samples;
    size_t offset = 0;
  };
  mutable std::mutex mu_;
  std::deque<Piece> queue_;
  size_t queued_ = 0;
  uint64_t current_ = 0;        // reply being played
  int64_t current_played_ = 0;  // its samples played
  bool attached_ = false;
};

}  // namespace duet::dialog
