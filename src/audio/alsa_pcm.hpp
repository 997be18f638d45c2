// One ALSA PCM stream (capture or playback) as Duet uses it: mono float samples at a fixed rate in
// fixed periods, whatever the device takes (float or 16-bit, mono or stereo: converted here),
// non-blocking with bounded waits, and recovery from over/underruns and suspends. Used by
// SoundDevice's audio threads. Must never allocate after open(), and never block longer than the
// timeout it is given.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

typedef struct _snd_pcm snd_pcm_t;  // NOLINT: ALSA's own opaque handle type

namespace duet {

enum class PcmDirection { Capture, Playback };

struct PcmConfig {
  std::string device = "default";  // an ALSA PCM name: "default", "plughw:1", "null", ...
  PcmDirection direction = PcmDirection::Capture;
  int rate = 16000;                // frames per second, exact (ALSA's plug layer converts)
  int period_frames = 160;         // one period: 10 ms at 16 kHz
  int periods = 4;                 // periods in the device buffer
  int fill_periods = 2;            // playback: periods kept queued ahead of the speaker (the
                                   // output latency; 1..periods); capture: unused
};

class AlsaPcm {
 public:
  // Opens and configures the device. Throws duet::Error naming the device and ALSA's reason; the
  // message starts with "no sound device" when ALSA knows no sound card at all.
  static std::unique_ptr<AlsaPcm> open(const PcmConfig& config);
  ~AlsaPcm();
  AlsaPcm(const AlsaPcm&) = delete;
  AlsaPcm& operator=(const AlsaPcm&) = delete;

  int rate() const { return config_.rate; }
  int period_frames() const { return period_frames_; }  // as granted by the device
  int buffer_frames() const { return buffer_frames_; }
  int fill_frames() const { return fill_frames_; }  // playback: frames kept queued
  int channels() const { return channels_; }
  bool takes_float() const { return float_format_; }
  const std::string& device() const { return config_.device; }

  // Capture: starts the stream. Playback: queues fill_periods of silence, so the first real
  // period does not underrun; the stream then starts by itself. wait() on a playback stream
  // returns when fewer than fill_periods are queued, so that many stay ahead of the speaker.
  void start();
  // Stops at once, dropping what is buffered.
  void stop();

  // Waits up to timeout_ms until a period can be read or written. Returns false on timeout; an
  // xrun met while waiting is recovered (and counted) and reported as ready.
  bool wait(int timeout_ms);

  // Capture: reads up to out.size() frames (mono floats) of what is available; returns how many
  // (0 when none yet or after a recovered overrun).
  int read(std::span<float> out);
  // Playback: writes up to in.size() frames; returns how many were taken (0 when there is no room
  // yet or after a recovered underrun, which also re-primes the buffer with silence).
  int write(std::span<const float> in);

  uint64_t xruns() const { return xruns_; }
  // Set when the device failed beyond recovery (unplugged, ...): ALSA's words. Thereafter read()
  // and write() return 0.
  const std::string& failure() const { return failure_; }

 private:
  AlsaPcm(PcmConfig config, snd_pcm_t* pcm);
  void configure();
  // Handles a negative ALSA result: recovers an xrun or suspend; records a failure otherwise.
  void recover(long error);
  void prime_silence();

  PcmConfig config_;
  snd_pcm_t* pcm_ = nullptr;
  int period_frames_ = 0;
  int buffer_frames_ = 0;
  int fill_frames_ = 0;
  int channels_ = 1;
  bool float_format_ = true;
  uint64_t xruns_ = 0;
  std::string failure_;
  std::vector<float> f32_;    // interleaved device samples when the device takes floats
  std::vector<int16_t> s16_;  // interleaved device samples when it takes 16-bit
};

}  // namespace duet
