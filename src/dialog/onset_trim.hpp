// Cuts the near-silence a voice puts before the first word of an answer, so the first audible
// sample leaves as soon as it exists (Piper voices open a reply with 30-60 ms of quiet). Word marks
// move with the audio. Only the answer's onset is touched: pauses between phrases are speech.
// Must never drop an audible sample, nor trim more than its bound.
#pragma once

#include <cstdint>
#include <vector>

#include "dialog/frame.hpp"

namespace duet::dialog {

class OnsetTrim {
 public:
  explicit OnsetTrim(int sample_rate);
  // Trims the chunk in place while the onset is still silent; word marks (positions from the
  // answer's start) are shifted by what was cut. A chunk that was all quiet comes back empty,
  // its words kept for the next one. Once the first audible sample has passed, chunks only have
  // their word marks shifted.
  void apply(std::vector<float>& samples, std::vector<WordMark>& words);
  int64_t trimmed() const { return trimmed_; }

 private:
  int window_;             // samples per level window (2 ms)
  int margin_;             // quiet samples kept before the first audible window (with a fade-in)
  int64_t max_trim_;       // never more than this is cut (300 ms)
  int64_t trimmed_ = 0;
  bool done_ = false;
  std::vector<WordMark> carried_;  // words of chunks that were cut whole
};

}  // namespace duet::dialog
