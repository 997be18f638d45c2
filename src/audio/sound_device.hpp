// SoundDevice: the live microphone and speaker of `duet chat`, through ALSA. Capture runs mono at
// 16 kHz and playback mono at 24 kHz (by default) in small periods (10 ms), each on its own audio
// thread: the capture thread hands every period to the capture callback, the playback thread pulls
// every period from the playback callback (the engine's playout), so what is played is exactly
// what the engine handed out. Over/underruns are recovered and counted, never fatal.
// Callbacks run on the audio threads: they must not block, and they must never throw (an
// exception stops that direction and is reported by stats()). Must never allocate on the audio
// threads after start().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

namespace duet {

class AlsaPcm;

struct SoundDeviceOptions {
  bool capture = true;                     // open the microphone
  bool playback = true;                    // open the speaker
  std::string capture_device = "default";  // ALSA PCM names
  std::string playback_device = "default";
  int capture_rate = 16000;
  int playback_rate = 24000;
  int period_ms = 10;                      // period asked for (5..40 ms; the device may round it)
  int periods = 4;                         // periods in each device buffer
  int playback_fill_periods = 2;           // periods queued ahead of the speaker: the output
                                           // latency (20 ms) against underrun safety
};

struct SoundDeviceStats {
  uint64_t captured_frames = 0;  // frames handed to the capture callback
  uint64_t played_frames = 0;    // frames pulled from the playback callback
  uint64_t overruns = 0;         // capture xruns recovered
  uint64_t underruns = 0;        // playback xruns recovered
  std::string error;             // a direction that stopped: the device failed or a callback threw
};

class SoundDevice {
 public:
  using CaptureCallback = std::function<void(std::span<const float>)>;  // one period, mono
  using PlaybackCallback = std::function<void(std::span<float>)>;  // fill one period (0 = silence)

  // Opens the devices the options ask for. Throws duet::Error when one cannot be opened; on a
  // machine without sound hardware the message starts with "no sound device" and names
  // `duet converse`, which talks through WAV files instead.
  explicit SoundDevice(const SoundDeviceOptions& options);
  ~SoundDevice();  // stops
  SoundDevice(const SoundDevice&) = delete;
  SoundDevice& operator=(const SoundDevice&) = delete;

  // Starts the audio threads (once). A callback may be empty for a direction that is not open.
  void start(CaptureCallback on_capture, PlaybackCallback on_playback);
  // Stops both threads and drops what the devices still buffer. Idempotent.
  void stop();

  int capture_rate() const { return options_.capture_rate; }
  int playback_rate() const { return options_.playback_rate; }
  // The periods the devices granted: the sizes of the spans the callbacks get.
  int capture_period_frames() const;
  int playback_period_frames() const;
  // Frames kept queued ahead of the speaker: the output latency (what was pulled last is heard
  // about this much later).
  int playback_latency_frames() const;

  SoundDeviceStats stats() const;

 private:
  void capture_loop();
  void playback_loop();
  void report(std::string message);

  SoundDeviceOptions options_;
  std::unique_ptr<AlsaPcm> capture_;
  std::unique_ptr<AlsaPcm> playback_;
  CaptureCallback on_capture_;
  PlaybackCallback on_playback_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
  std::atomic<uint64_t> captured_{0};
  std::atomic<uint64_t> played_{0};
  std::atomic<uint64_t> overruns_{0};
  std::atomic<uint64_t> underruns_{0};
  mutable std::mutex error_mutex_;  // guards error_ (written once per failure, off the hot path)
  std::string error_;
  std::thread capture_thread_;
  std::thread playback_thread_;
};

}  // namespace duet
