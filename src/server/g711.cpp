// G.711 mu-law and A-law conversions, written from the ITU-T G.711 segment definitions.
// Must never branch on data outside the 8-bit code or 16-bit sample it was given.
#include "server/g711.hpp"

#include <cstdlib>

namespace duet::server {
namespace {

constexpr int kUlawBias = 0x84;   // 132: mu-law adds this before finding the segment
constexpr int kUlawClip = 32635;

int segment_of(int magnitude, int first_limit) {
  // Segment s holds magnitudes below first_limit << s.
  int seg = 0;
  int limit = first_limit;
  while (seg < 8 && magnitude >= limit) {
    ++seg;
    limit <<= 1;
  }
  return seg;
}

}  // namespace

int16_t ulaw_to_linear(uint8_t code) {
  const int u = static_cast<uint8_t>(~code);
  const int sign = u & 0x80;
  const int exponent = (u >> 4) & 7;
  const int mantissa = u & 0x0F;
  const int magnitude = (((mantissa << 3) + kUlawBias) << exponent) - kUlawBias;
  return static_cast<int16_t>(sign ? -magnitude : magnitude);
}

uint8_t linear_to_ulaw(int16_t sample) {
  int value = sample;
  int sign = 0;
  if (value < 0) {
    value = -value;
    sign = 0x80;
  }
  if (value > kUlawClip) value = kUlawClip;
  value += kUlawBias;
  const int exponent = segment_of(value, 0x100);  // 0..7 for value in [132, 32767]
  const int mantissa = (value >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

int16_t alaw_to_linear(uint8_t code) {
  const int a = code ^ 0x55;
  const int sign = a & 0x80;
  const int exponent = (a >> 4) & 7;
  const int mantissa = a & 0x0F;
  int magnitude = (mantissa << 4) + 8;
  if (exponent != 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  return static_cast<int16_t>(sign ? magnitude : -magnitude);
}

uint8_t linear_to_alaw(int16_t sample) {
  int value = sample;
  int sign = 0x80;  // A-law sets the sign bit for positive values
  if (value < 0) {
    value = -value - 1;
    sign = 0;
  }
  if (value > 32767) value = 32767;
  int code = 0;
  if (value < 256) {
    code = value >> 4;
  } else {
    const int exponent = segment_of(value, 0x100) ;  // 1..7 for value in [256, 32767]
    code = (exponent << 4) | ((value >> (exponent + 3)) & 0x0F);
  }
  return static_cast<uint8_t>((code | sign) ^ 0x55);
}

}  // namespace duet::server
