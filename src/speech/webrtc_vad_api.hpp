// The few WebRtcVad_* C functions of libwebrtc-audio-processing 0.3 that Duet uses. The library
// exports them but Debian ships no header, so they are declared here, with the signatures of
// that version (checked against the library's code: Create returns the instance, Process takes
// the rate and the frame length in samples). Must never be included outside vad_webrtc.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

struct WebRtcVadInst;  // opaque (the library calls it VadInst)

WebRtcVadInst* WebRtcVad_Create();                     // allocates; null on failure
void WebRtcVad_Free(WebRtcVadInst* handle);
int WebRtcVad_Init(WebRtcVadInst* handle);             // 0 on success, -1 on error
int WebRtcVad_set_mode(WebRtcVadInst* handle, int mode);  // mode 0..3; 0 or -1
// 1 = speech, 0 = no speech, -1 = error (bad rate or length, or not initialized).
int WebRtcVad_Process(WebRtcVadInst* handle, int fs, const int16_t* audio_frame,
                      size_t frame_length);
// 0 when `rate` with `frame_length` samples (10, 20 or 30 ms) is accepted, -1 otherwise.
int WebRtcVad_ValidRateAndFrameLength(int rate, size_t frame_length);

}  // extern "C"
