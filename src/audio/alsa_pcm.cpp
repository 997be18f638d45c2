// ALSA behind AlsaPcm (see alsa_pcm.hpp): opening with a clear message when there is no sound
// device, hardware/software parameters, sample conversion and xrun recovery. Must never allocate
// in read()/write()/wait(), never sleep, and never print: ALSA's own diagnostics are silenced
// unless DUET_ALSA_DEBUG is set, because our errors carry its reason already.
#include "audio/alsa_pcm.hpp"

#include <alsa/asoundlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "core/error.hpp"

namespace duet {

namespace {

void quiet_alsa(const char*, int, const char*, int, const char*, ...) {}

// ALSA prints its configuration errors to stderr by default (a dozen lines for a missing card);
// the handler is the library's own process-wide setting, chosen once.
void silence_alsa_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("DUET_ALSA_DEBUG") == nullptr) snd_lib_error_set_handler(&quiet_alsa);
  });
}

bool any_sound_card() {
  int card = -1;
  return snd_card_next(&card) == 0 && card >= 0;
}

const char* direction_name(PcmDirection d) {
  return d == PcmDirection::Capture ? "capture" : "playback";
}

}  // namespace

AlsaPcm::AlsaPcm(PcmConfig config, snd_pcm_t* pcm) : config_(std::move(config)), pcm_(pcm) {}

AlsaPcm::~AlsaPcm() {
  if (pcm_ != nullptr) {
    snd_pcm_drop(pcm_);
    snd_pcm_close(pcm_);
  }
}

std::unique_ptr<AlsaPcm> AlsaPcm::open(const PcmConfig& config) {
  if (config.rate <= 0 || config.period_frames <= 0 || config.periods < 2) {
    fail("sound device '{}': bad settings (rate {}, period {} frames, {} periods)", config.device,
         config.rate, config.period_frames, config.periods);
  }
  silence_alsa_once();
  const snd_pcm_stream_t stream = config.direction == PcmDirection::Capture
                                      ? SND_PCM_STREAM_CAPTURE
                                      : SND_PCM_STREAM_PLAYBACK;
  snd_pcm_t* pcm = nullptr;
  if (const int err = snd_pcm_open(&pcm, config.device.c_str(), stream, SND_PCM_NONBLOCK);
      err < 0) {
    if (!any_sound_card()) {
      fail("no sound device: ALSA cannot open the {} device '{}' ({}) and finds no sound card on "
           "this machine; use `duet converse --in person.wav --out duet.wav` to talk through files",
           direction_name(config.direction), config.device, snd_strerror(err));
    }
    fail("cannot open the {} device '{}': {}; check the device name (`arecord -L` and `aplay -L` "
         "list them) and that no other program holds it, or use `duet converse --in person.wav "
         "--out duet.wav` to talk through files",
         direction_name(config.direction), config.device, snd_strerror(err));
  }
  std::unique_ptr<AlsaPcm> self(new AlsaPcm(config, pcm));
  self->configure();
  return self;
}

void AlsaPcm::configure() {
  const char* dir = direction_name(config_.direction);
  auto check = [&](int err, const char* what) {
    if (err < 0) {
      fail("{} device '{}': cannot {}: {}; try the device 'default' or 'plughw:N', where ALSA "
           "converts formats and rates",
           dir, config_.device, what, snd_strerror(err));
    }
  };
  snd_pcm_hw_params_t* hw = nullptr;
  snd_pcm_hw_params_alloca(&hw);
  check(snd_pcm_hw_params_any(pcm_, hw), "read its capabilities");
  check(snd_pcm_hw_params_set_rate_resample(pcm_, hw, 1), "enable rate conversion");
  check(snd_pcm_hw_params_set_access(pcm_, hw, SND_PCM_ACCESS_RW_INTERLEAVED),
        "use interleaved access");
  if (snd_pcm_hw_params_test_format(pcm_, hw, SND_PCM_FORMAT_FLOAT_LE) == 0) {
    check(snd_pcm_hw_params_set_format(pcm_, hw, SND_PCM_FORMAT_FLOAT_LE), "take float samples");
    float_format_ = true;
  } else {
    check(snd_pcm_hw_params_set_format(pcm_, hw, SND_PCM_FORMAT_S16_LE),
          "take float or 16-bit samples");
    float_format_ = false;
  }
  if (snd_pcm_hw_params_test_channels(pcm_, hw, 1) == 0) {
    channels_ = 1;
  } else {
    channels_ = 2;  // a stereo-only device: capture is averaged, playback duplicated
  }
  check(snd_pcm_hw_params_set_channels(pcm_, hw, static_cast<unsigned>(channels_)),
        "use one or two channels");
  check(snd_pcm_hw_params_set_rate(pcm_, hw, static_cast<unsigned>(config_.rate), 0),
        fmt::format("run at {} Hz", config_.rate).c_str());
  snd_pcm_uframes_t period = static_cast<snd_pcm_uframes_t>(config_.period_frames);
  int sub = 0;
  check(snd_pcm_hw_params_set_period_size_near(pcm_, hw, &period, &sub), "set the period size");
  snd_pcm_uframes_t buffer = period * static_cast<snd_pcm_uframes_t>(config_.periods);
  check(snd_pcm_hw_params_set_buffer_size_near(pcm_, hw, &buffer), "set the buffer size");
  check(snd_pcm_hw_params(pcm_, hw), "apply the settings");
  check(snd_pcm_hw_params_get_period_size(hw, &period, &sub), "report its period size");
  check(snd_pcm_hw_params_get_buffer_size(hw, &buffer), "report its buffer size");
  period_frames_ = static_cast<int>(period);
  buffer_frames_ = static_cast<int>(buffer);
  const int fill_periods = std::clamp(config_.fill_periods, 1, buffer_frames_ / period_frames_);
  fill_frames_ = fill_periods * period_frames_;

  snd_pcm_sw_params_t* sw = nullptr;
  snd_pcm_sw_params_alloca(&sw);
  check(snd_pcm_sw_params_current(pcm_, sw), "read its software settings");
  // Capture wakes for every period; playback wakes once less than fill_periods are queued.
  const snd_pcm_uframes_t wake =
      config_.direction == PcmDirection::Capture
          ? period
          : std::max<snd_pcm_uframes_t>(period, buffer - static_cast<snd_pcm_uframes_t>(
                                                             fill_frames_ - period_frames_));
  check(snd_pcm_sw_params_set_avail_min(pcm_, sw, wake), "set the wake-up size");
  const snd_pcm_uframes_t start_at = config_.direction == PcmDirection::Capture
                                         ? 1
                                         : static_cast<snd_pcm_uframes_t>(fill_frames_);
  check(snd_pcm_sw_params_set_start_threshold(pcm_, sw, start_at), "set the start threshold");
  check(snd_pcm_sw_params(pcm_, sw), "apply the software settings");

  const size_t samples = static_cast<size_t>(period_frames_) * static_cast<size_t>(channels_);
  if (float_format_) {
    f32_.assign(samples, 0.0f);
  } else {
    s16_.assign(samples, 0);
  }
}

void AlsaPcm::start() {
  if (config_.direction == PcmDirection::Capture) {
    if (const int err = snd_pcm_start(pcm_); err < 0) recover(err);
  } else {
    prime_silence();
  }
}

void AlsaPcm::stop() {
  snd_pcm_drop(pcm_);
}

void AlsaPcm::prime_silence() {
  std::fill(f32_.begin(), f32_.end(), 0.0f);
  std::fill(s16_.begin(), s16_.end(), int16_t{0});
  void* zeros = float_format_ ? static_cast<void*>(f32_.data()) : static_cast<void*>(s16_.data());
  for (int queued = 0; queued < fill_frames_; queued += period_frames_) {
    if (snd_pcm_writei(pcm_, zeros, static_cast<snd_pcm_uframes_t>(period_frames_)) < 0) break;
  }
}

void AlsaPcm::recover(long error) {
  int err = static_cast<int>(error);
  if (err == -EINTR || err == -EAGAIN) return;
  if (err == -EPIPE || err == -ESTRPIPE) {
    ++xruns_;
    // A suspended device resumes if it can; otherwise (and after an xrun) it is re-prepared.
    // Never snd_pcm_recover(): it sleeps whole seconds waiting for a resume.
    if (err == -ESTRPIPE && snd_pcm_resume(pcm_) == 0) return;
    err = snd_pcm_prepare(pcm_);
    if (err == 0) {
      if (config_.direction == PcmDirection::Capture) {
        err = snd_pcm_start(pcm_);
      } else {
        prime_silence();
      }
    }
    if (err == 0) return;
  }
  failure_ = fmt::format("{} device '{}' failed: {}", direction_name(config_.direction),
                         config_.device, snd_strerror(err));
}

bool AlsaPcm::wait(int timeout_ms) {
  if (!failure_.empty()) return false;
  const int r = snd_pcm_wait(pcm_, timeout_ms);
  if (r > 0) return true;
  if (r == 0) return false;
  recover(r);
  return true;
}

int AlsaPcm::read(std::span<float> out) {
  if (!failure_.empty()) return 0;
  const auto frames = static_cast<snd_pcm_uframes_t>(
      std::min<size_t>(out.size(), static_cast<size_t>(period_frames_)));
  void* buf = float_format_ ? static_cast<void*>(f32_.data()) : static_cast<void*>(s16_.data());
  const snd_pcm_sframes_t n = snd_pcm_readi(pcm_, buf, frames);
  if (n < 0) {
    recover(n);
    return 0;
  }
  constexpr float kS16 = 1.0f / 32768.0f;
  for (snd_pcm_sframes_t i = 0; i < n; ++i) {
    const size_t at = static_cast<size_t>(i) * static_cast<size_t>(channels_);
    float v = float_format_ ? f32_[at] : s16_[at] * kS16;
    if (channels_ == 2) {
      v = 0.5f * (v + (float_format_ ? f32_[at + 1] : s16_[at + 1] * kS16));
    }
    out[static_cast<size_t>(i)] = v;
  }
  return static_cast<int>(n);
}

int AlsaPcm::write(std::span<const float> in) {
  if (!failure_.empty()) return 0;
  const size_t frames = std::min<size_t>(in.size(), static_cast<size_t>(period_frames_));
  for (size_t i = 0; i < frames; ++i) {
    const float v = std::clamp(in[i], -1.0f, 1.0f);
    for (int c = 0; c < channels_; ++c) {
      const size_t at = i * static_cast<size_t>(channels_) + static_cast<size_t>(c);
      if (float_format_) {
        f32_[at] = v;
      } else {
        s16_[at] = static_cast<int16_t>(std::lrintf(v * 32767.0f));
      }
    }
  }
  const void* buf =
      float_format_ ? static_cast<const void*>(f32_.data()) : static_cast<const void*>(s16_.data());
  const snd_pcm_sframes_t n = snd_pcm_writei(pcm_, buf, frames);
  if (n < 0) {
    recover(n);
    return 0;
  }
  return static_cast<int>(n);
}

}  // namespace duet
