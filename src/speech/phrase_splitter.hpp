// Splits text that arrives in pieces (an LLM's stream) into phrases to synthesize one by one: a
// short first phrase (up to the first clause mark, or a few words) so audio starts early, then
// whole sentences (long ones at clause marks). A boundary is only taken once the whitespace after
// it has arrived, so a phrase never ends inside a word or number still being streamed.
// Must never drop or reorder text: the phrases concatenate back to the input (up to spacing).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace duet {

class PhraseSplitter {
 public:
  static constexpr int kFirstPhraseWords = 3;  // the first phrase ends here if no mark came
  static constexpr int kLongSentenceWords = 28;  // longer sentences split at clause marks
  static constexpr int kMaxPhraseWords = 48;     // and any phrase at this many words

  void push(std::string_view text) { buffer_.append(text); }
  // The next complete phrase, or nullopt when none is complete yet. After `final` is passed as
  // true, the rest of the text is one last phrase (nullopt when only whitespace remains).
  std::optional<std::string> next(bool final);
  bool empty() const;
  void clear() {
    buffer_.clear();
    first_ = short_first_;
  }
  // Off: the first phrase follows the same rules as the rest (whole text known up front, where
  // an early cut would only add a break mid-sentence).
  void set_short_first(bool on) {
    short_first_ = on;
    first_ = on && first_;
  }

 private:
  std::string buffer_;
  bool short_first_ = true;
  bool first_ = true;
};

}  // namespace duet
