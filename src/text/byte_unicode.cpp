// The GPT-2 byte-level mapping (see byte_unicode.hpp), computed arithmetically: bytes that are
// printable Latin-1 map to themselves, the other 68 bytes map in order to U+0100.. Must never
// keep tables that could drift from that rule.
#include "text/byte_unicode.hpp"

namespace duet::text {
namespace {

constexpr bool maps_to_itself(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// Number of bytes below b that do not map to themselves.
constexpr uint32_t shifted_before(uint32_t b) {
  // Ranges of non-printable bytes: 0x00-0x20 (33), 0x7F-0xA0 (34), 0xAD (1).
  if (b <= 0x20) return b;
  if (b <= 0x7E) return 33;
  if (b <= 0xA0) return 33 + (b - 0x7F);
  if (b <= 0xAD) return 67;
  return 68;
}

}  // namespace

uint32_t byte_to_unicode(uint8_t byte) {
  return maps_to_itself(byte) ? byte : 0x100 + shifted_before(byte);
}

std::optional<uint8_t> unicode_to_byte(uint32_t cp) {
  if (cp < 0x100) {
    if (maps_to_itself(cp)) return static_cast<uint8_t>(cp);
    return std::nullopt;
  }
  if (cp >= 0x100 + 68) return std::nullopt;
  const uint32_t n = cp - 0x100;  // the n-th non-printable byte
  if (n < 33) return static_cast<uint8_t>(n);
  if (n < 67) return static_cast<uint8_t>(0x7F + (n - 33));
  return static_cast<uint8_t>(0xAD);
}

}  // namespace duet::text
