// Streaming removal of bracketed tags from a reply. Must never reorder text, and never hold more
// than one open tag's bytes.
#include "dialog/tag_filter.hpp"

namespace duet::dialog {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::string TagFilter::push(std::string_view piece) {
  std::string out;
  const auto pass = [&](char c) {
    // "word. [tag] Next" reads "word. Next", not "word.  Next".
    if (after_tag_ && is_blank(c) && last_space_) return;
    after_tag_ = false;
    out.push_back(c);
    last_space_ = is_blank(c);
  };
  for (const char c : piece) {
    if (held_.empty()) {
      if (c == '[') {
        held_.push_back(c);
      } else {
        pass(c);
      }
      continue;
    }
    held_.push_back(c);
    if (c == ']') {
      held_.clear();
      after_tag_ = true;
    } else if (held_.size() > kMaxTagBytes) {
      // Too long for a tag: text in brackets, passed on as written.
      const std::string text = std::move(held_);
      held_.clear();
      for (const char t : text) pass(t);
    }
  }
  return out;
}

void TagFilter::finish() {
  held_.clear();
  last_space_ = true;
  after_tag_ = false;
}

std::string without_tags(std::string_view text) {
  TagFilter f;
  std::string out = f.push(text);
  f.finish();
  return out;
}

}  // namespace duet::dialog
