// SoundDevice's two audio threads (see sound_device.hpp): bounded waits on the ALSA streams,
// whole periods assembled from partial reads and writes, xrun counts. Must never allocate or take
// a lock on the audio path (the error mutex is taken only when a direction stops for good).
#include "audio/sound_device.hpp"

#include <algorithm>
#include <exception>
#include <vector>

#include "audio/alsa_pcm.hpp"
#include "core/error.hpp"

namespace duet {

namespace {

constexpr int kWaitMs = 50;  // the longest an audio thread waits before it looks at stop_ again

int period_frames_for(int rate, int period_ms) {
  return std::max(1, rate * period_ms / 1000);
}

}  // namespace

SoundDevice::SoundDevice(const SoundDeviceOptions& options) : options_(options) {
  if (!options_.capture && !options_.playback) {
    fail("sound device: neither capture nor playback was asked for");
  }
  if (options_.period_ms < 5 || options_.period_ms > 40) {
    fail("sound device: a period of {} ms is outside 5..40 ms", options_.period_ms);
  }
  if (options_.capture) {
    capture_ = AlsaPcm::open({.device = options_.capture_device,
                              .direction = PcmDirection::Capture,
                              .rate = options_.capture_rate,
                              .period_frames = period_frames_for(options_.capture_rate,
                                                                 options_.period_ms),
                              .periods = options_.periods});
  }
  if (options_.playback) {
    playback_ = AlsaPcm::open({.device = options_.playback_device,
                               .direction = PcmDirection::Playback,
                               .rate = options_.playback_rate,
                               .period_frames = period_frames_for(options_.playback_rate,
                                                                  options_.period_ms),
                               .periods = options_.periods,
                               .fill_periods = options_.playback_fill_periods});
  }
}

SoundDevice::~SoundDevice() {
  stop();
}

int SoundDevice::capture_period_frames() const {
  return capture_ ? capture_->period_frames() : 0;
}

int SoundDevice::playback_period_frames() const {
  return playback_ ? playback_->period_frames() : 0;
}

int SoundDevice::playback_latency_frames() const {
  return playback_ ? playback_->fill_frames() : 0;
}

void SoundDevice::start(CaptureCallback on_capture, PlaybackCallback on_playback) {
  if (started_) fail("sound device: start() called twice");
  if (capture_ && !on_capture) fail("sound device: capture is open but has no callback");
  if (playback_ && !on_playback) fail("sound device: playback is open but has no callback");
  started_ = true;
  on_capture_ = std::move(on_capture);
  on_playback_ = std::move(on_playback);
  if (capture_) capture_thread_ = std::thread([this] { capture_loop(); });
  if (playback_) playback_thread_ = std::thread([this] { playback_loop(); });
}

void SoundDevice::stop() {
  stop_.store(true, std::memory_order_release);
  if (capture_thread_.joinable()) capture_thread_.join();
  if (playback_thread_.joinable()) playback_thread_.join();
  if (capture_) capture_->stop();
  if (playback_) playback_->stop();
}

void SoundDevice::report(std::string message) {
  std::lock_guard lock(error_mutex_);
  if (!error_.empty()) error_ += "; ";
  error_ += message;
}

void SoundDevice::capture_loop() {
  AlsaPcm& pcm = *capture_;
  std::vector<float> period(static_cast<size_t>(pcm.period_frames()));  // before the loop
  size_t filled = 0;
  uint64_t xruns_seen = 0;
  try {
    pcm.start();
    while (!stop_.load(std::memory_order_acquire) && pcm.failure().empty()) {
      const bool ready = pcm.wait(kWaitMs);
      const int got = ready ? pcm.read(std::span<float>(period).subspan(filled)) : 0;
      if (pcm.xruns() != xruns_seen) {  // an overrun, met while waiting or reading
        overruns_.fetch_add(pcm.xruns() - xruns_seen, std::memory_order_relaxed);
        xruns_seen = pcm.xruns();
        filled = 0;  // the samples before a gap do not belong with those after it
        continue;
      }
      filled += static_cast<size_t>(got);
      if (filled == period.size()) {
        on_capture_(period);
        captured_.fetch_add(period.size(), std::memory_order_relaxed);
        filled = 0;
      }
    }
  } catch (const std::exception& e) {
    report(std::string("capture callback failed: ") + e.what());
    return;
  } catch (...) {
    report("capture callback failed with a non-standard exception");
    return;
  }
  if (!pcm.failure().empty()) report(pcm.failure());
}

void SoundDevice::playback_loop() {
  AlsaPcm& pcm = *playback_;
  std::vector<float> period(static_cast<size_t>(pcm.period_frames()));  // before the loop
  size_t written = period.size();  // nothing pending: the next period is pulled first
  uint64_t xruns_seen = 0;
  try {
    pcm.start();
    while (!stop_.load(std::memory_order_acquire) && pcm.failure().empty()) {
      if (pcm.wait(kWaitMs)) {
        if (written == period.size()) {
          std::fill(period.begin(), period.end(), 0.0f);
          on_playback_(period);
          played_.fetch_add(period.size(), std::memory_order_relaxed);
          written = 0;
        }
        written += static_cast<size_t>(pcm.write(std::span<const float>(period).subspan(written)));
      }
      // An underrun re-primes the device with silence; the period in hand is still played next.
      if (pcm.xruns() != xruns_seen) {
        underruns_.fetch_add(pcm.xruns() - xruns_seen, std::memory_order_relaxed);
        xruns_seen = pcm.xruns();
      }
    }
  } catch (const std::exception& e) {
    report(std::string("playback callback failed: ") + e.what());
    return;
  } catch (...) {
    report("playback callback failed with a non-standard exception");
    return;
  }
  if (!pcm.failure().empty()) report(pcm.failure());
}

SoundDeviceStats SoundDevice::stats() const {
  SoundDeviceStats s;
  s.captured_frames = captured_.load(std::memory_order_relaxed);
  s.played_frames = played_.load(std::memory_order_relaxed);
  s.overruns = overruns_.load(std::memory_order_relaxed);
  s.underruns = underruns_.load(std::memory_order_relaxed);
  std::lock_guard lock(error_mutex_);
  s.error = error_;
  return s;
}

}  // namespace duet
