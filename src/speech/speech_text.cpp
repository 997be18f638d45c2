// UTF-8 validation by hand (RFC 3629 rules) and a whitespace test over code points. Must never
// read past the end of the input, whatever bytes it holds.
#include "speech/speech_text.hpp"

#include <cstdint>

namespace duet {
namespace {

struct DecodedChar {
  char32_t code = 0;
  size_t length = 0;  // 0 when the bytes at this position are not valid UTF-8
};

DecodedChar decode_utf8_at(std::string_view text, size_t position) {
  const auto lead = static_cast<uint8_t>(text[position]);
  if (lead < 0x80) return {lead, 1};
  size_t length = 0;
  char32_t code = 0;
  char32_t smallest = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1Fu, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0Fu, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07u, smallest = 0x10000;
  } else {
    return {};
  }
  if (length > text.size() - position) return {};
  for (size_t i = 1; i < length; ++i) {
    const auto next = static_cast<uint8_t>(text[position + i]);
    if ((next & 0xC0) != 0x80) return {};
    code = (code << 6) | (next & 0x3Fu);
  }
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  if (code < smallest || code > 0x10FFFF || surrogate) return {};
  return {code, length};
}

bool is_space_code(char32_t code) {
  if (code <= 0x20 || code == 0x7F) return true;  // ASCII whitespace and control characters
  switch (code) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000: case 0xFEFF:
      return true;
    default:
      return code >= 0x2000 && code <= 0x200B;  // en/em/thin/hair/zero-width spaces
  }
}

}  // namespace

std::string replace_invalid_utf8(std::string_view text) {
  std::string cleaned;
  cleaned.reserve(text.size());
  size_t position = 0;
  while (position < text.size()) {
    const DecodedChar decoded = decode_utf8_at(text, position);
    if (decoded.length == 0 || decoded.code == 0) {
      cleaned.push_back(' ');
      ++position;
      continue;
    }
    cleaned.append(text.substr(position, decoded.length));
    position += decoded.length;
  }
  return cleaned;
}

bool is_blank_text(std::string_view text) {
  size_t position = 0;
  while (position < text.size()) {
    const DecodedChar decoded = decode_utf8_at(text, position);
    if (decoded.length == 0) return false;  // not whitespace, whatever it is
    if (!is_space_code(decoded.code)) return false;
    position += decoded.length;
  }
  return true;
}

}  // namespace duet
