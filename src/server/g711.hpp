// G.711 companding (ITU-T G.711 mu-law and A-law), 8-bit codes <-> 16-bit linear samples, for the
// Realtime protocol's g711_ulaw / g711_alaw (audio/pcmu, audio/pcma) formats at 8 kHz.
// Must never depend on tables built at run time in shared mutable state: everything is pure.
#pragma once

#include <cstdint>

namespace duet::server {

int16_t ulaw_to_linear(uint8_t code);
uint8_t linear_to_ulaw(int16_t sample);
int16_t alaw_to_linear(uint8_t code);
uint8_t linear_to_alaw(int16_t sample);

}  // namespace duet::server
