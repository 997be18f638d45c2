// Takes square-bracketed tags out of a reply as it streams. The prompt describes each user turn
// with a tag after its words ("... boil an egg? [third speaker]"); a small model sometimes copies
// that habit into its own answer ("I'll do it tomorrow. [third speaker]You're welcome!"), and a
// voice would read the tag aloud. The text, the history and the voice all get the filtered text.
// Must never drop anything but a tag: a '[' that is not closed within kMaxTagBytes is passed on
// as written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace duet::dialog {

class TagFilter {
 public:
  // The longest tag: Duet's own annotations (audio::annotation) stay under 130 bytes even with
  // every descriptor at once; most are under 40.
  static constexpr size_t kMaxTagBytes = 160;

  // The part of `piece` that can be passed on now: text inside a '[' not yet closed is held.
  std::string push(std::string_view piece);
  // The end of the reply: a tag still open (cut short by the token limit, "[third spe") is
  // dropped, and the filter is ready for another reply.
  void finish();

 private:
  std::string held_;          // from an open '[' on
  bool last_space_ = true;    // the text passed on so far ends in a blank (or is empty)
  bool after_tag_ = false;    // a tag was just dropped: a blank after it is not doubled
};

// The whole text at once.
std::string without_tags(std::string_view text);

}  // namespace duet::dialog
