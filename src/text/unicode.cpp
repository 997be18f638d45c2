// Unicode helpers for the tokenizers (see unicode.hpp). Lookups are a binary search over the
// generated range table; must never hold mutable state.
#include "text/unicode.hpp"

#include <algorithm>

namespace duet::text {
namespace detail {
extern const uint32_t kCpRanges[];
extern const size_t kCpRangeCount;
extern const char kUnicodeVersion[];
}  // namespace detail

CpClass cp_class(uint32_t cp) {
  if (cp > 0x10FFFF) return CpClass::Unassigned;
  // The last range whose start is <= cp.
  const uint32_t* begin = detail::kCpRanges;
  const uint32_t* end = detail::kCpRanges + detail::kCpRangeCount;
  const uint32_t key = (cp << 8) | 0xFFu;
  const uint32_t* it = std::upper_bound(begin, end, key);
  return static_cast<CpClass>(it[-1] & 0xFFu);  // the first range starts at 0, so it > begin
}

bool is_whitespace(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint32_t utf8_decode_one(std::string_view s, size_t& offset) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const uint8_t b0 = byte(offset);
  if (b0 < 0x80) {
    offset += 1;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0 && cont(offset + 1)) {
    uint32_t cp = (uint32_t(b0 & 0x1F) << 6) | (byte(offset + 1) & 0x3F);
    offset += 2;
    return cp;
  }
  if ((b0 & 0xF0) == 0xE0 && cont(offset + 1) && cont(offset + 2)) {
    uint32_t cp = (uint32_t(b0 & 0x0F) << 12) | (uint32_t(byte(offset + 1) & 0x3F) << 6) |
                  (byte(offset + 2) & 0x3F);
    offset += 3;
    return cp;
  }
  if ((b0 & 0xF8) == 0xF0 && cont(offset + 1) && cont(offset + 2) && cont(offset + 3)) {
    uint32_t cp = (uint32_t(b0 & 0x07) << 18) | (uint32_t(byte(offset + 1) & 0x3F) << 12) |
                  (uint32_t(byte(offset + 2) & 0x3F) << 6) | (byte(offset + 3) & 0x3F);
    offset += 4;
    return cp;
  }
  offset += 1;
  return kReplacementChar;
}

void utf8_decode(std::string_view s, std::vector<uint32_t>& out) {
  out.clear();
  out.reserve(s.size());
  size_t offset = 0;
  while (offset < s.size()) out.push_back(utf8_decode_one(s, offset));
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_encode(uint32_t cp) {
  std::string s;
  utf8_append(s, cp);
  return s;
}

size_t utf8_complete_prefix(std::string_view s) {
  // Look back at most 3 bytes for the lead byte of a possibly unfinished sequence.
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t b = static_cast<uint8_t>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    if (b < 0xC0) return n;            // ASCII: everything is complete
    const size_t need = (b & 0xE0) == 0xC0   ? 2
                        : (b & 0xF0) == 0xE0 ? 3
                        : (b & 0xF8) == 0xF0 ? 4
                                             : 1;
    return back < need ? n - back : n;
  }
  return n;  // only continuation bytes (or malformed): nothing to wait for
}

std::string_view unicode_table_version() {
  return detail::kUnicodeVersion;
}

}  // namespace duet::text
