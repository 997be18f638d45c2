// Base64 (RFC 4648, standard alphabet, padded) for the Realtime protocol's audio payloads.
// Must never accept malformed input silently: decode() reports the first bad character or a bad
// length as a duet::Error, and never reads outside the given text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace duet::server {

std::string base64_encode(std::span<const uint8_t> bytes);

// Decodes padded base64; whitespace is not allowed. Throws duet::Error naming what is wrong.
std::vector<uint8_t> base64_decode(std::string_view text);

}  // namespace duet::server
