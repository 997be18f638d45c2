// Streaming detokenizer (see stream_decoder.hpp). Must never drop bytes: whatever push() holds
// back is emitted by a later push() or by flush().
#include "text/stream_decoder.hpp"

#include "text/unicode.hpp"

namespace duet::text {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool special)
    : tokenizer_(&tokenizer), special_(special) {}

std::string_view StreamDecoder::push(Token token) {
  std::string_view piece = tokenizer_->token_to_piece(token, special_);
  if (first_) {
    // As decode(): SPM vocabularies with a space prefix drop the first token's leading space.
    if (tokenizer_->vocab().add_space_prefix() && !piece.empty() && piece.front() == ' ')
      piece.remove_prefix(1);
    first_ = false;
  }
  pending_ += piece;
  const size_t complete = utf8_complete_prefix(pending_);
  ready_.assign(pending_, 0, complete);
  pending_.erase(0, complete);
  return ready_;
}

std::string StreamDecoder::flush() {
  std::string rest = std::move(pending_);
  reset();
  return rest;
}

void StreamDecoder::reset() {
  pending_.clear();
  ready_.clear();
  first_ = true;
}

}  // namespace duet::text
