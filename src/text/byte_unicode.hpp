// The GPT-2 byte-level mapping: every byte 0..255 gets a printable code point so byte-level BPE
// vocabularies can be stored as text (space 0x20 -> U+0120 'Ġ', newline -> U+010A 'Ċ', ...).
// Must never be anything but a pure, stateless bijection.
#pragma once

#include <cstdint>
#include <optional>

namespace duet::text {

// Code point that stands for `byte` in byte-level BPE token text.
uint32_t byte_to_unicode(uint8_t byte);
// The byte a code point stands for, or nullopt when cp is not one of the 256 stand-ins.
std::optional<uint8_t> unicode_to_byte(uint32_t cp);

}  // namespace duet::text
