// Unit tests of SoundDevice: on a machine without sound hardware, opening the default devices
// fails with the clear "no sound device ... duet converse" message (and works where a device
// exists); ALSA's "null" device, present everywhere, runs both audio threads end to end. Must
// never make a sound: only the null device is ever started.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "audio/sound_device.hpp"
#include "core/error.hpp"

using duet::SoundDevice;
using duet::SoundDeviceOptions;

namespace {

SoundDeviceOptions null_devices() {
  SoundDeviceOptions o;
  o.capture_device = "null";
  o.playback_device = "null";
  return o;
}

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace

TEST(SoundDevice, DefaultDeviceOpensOrSaysThereIsNone) {
  try {
    SoundDevice device{SoundDeviceOptions{}};
    // A machine with sound hardware: the devices open; nothing is started (no sound is made).
    EXPECT_GT(device.capture_period_frames(), 0);
    EXPECT_GT(device.playback_period_frames(), 0);
  } catch (const duet::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("use `duet converse --in person.wav --out duet.wav` to talk through files"),
              std::string::npos)
        << what;
    if (!std::filesystem::exists("/proc/asound/cards")) {
      EXPECT_EQ(what.rfind("no sound device: ", 0), 0u) << what;
    }
  }
}

TEST(SoundDevice, UnknownDeviceNameIsNamedInTheError) {
  SoundDeviceOptions o;
  o.playback = false;
  o.capture_device = "no-such-pcm";
  try {
    SoundDevice device(o);
    FAIL() << "opened a device that does not exist";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'no-such-pcm'"), std::string::npos) << e.what();
  }
}

TEST(SoundDevice, NullDeviceRunsBothDirectionsInSmallPeriods) {
  SoundDevice device(null_devices());
  EXPECT_EQ(device.capture_period_frames(), 160);   // 10 ms at 16 kHz
  EXPECT_EQ(device.playback_period_frames(), 240);  // 10 ms at 24 kHz
  EXPECT_EQ(device.playback_latency_frames(), 480);  // two periods queued: 20 ms
  std::atomic<int> captures{0}, pulls{0}, bad_sizes{0};
  device.start(
      [&](std::span<const float> in) {
        if (in.size() != 160) ++bad_sizes;
        ++captures;
      },
      [&](std::span<float> out) {
        if (out.size() != 240) ++bad_sizes;
        for (float& s : out) s = 0.25f;
        ++pulls;
      });
  EXPECT_TRUE(wait_for([&] { return captures >= 5 && pulls >= 5; }, std::chrono::seconds(5)));
  device.stop();
  const int after_stop = pulls.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(pulls.load(), after_stop);  // no callback after stop()
  EXPECT_EQ(bad_sizes.load(), 0);
  const auto stats = device.stats();
  EXPECT_GE(stats.captured_frames, 5u * 160u);
  EXPECT_GE(stats.played_frames, 5u * 240u);
  EXPECT_EQ(stats.error, "");
  device.stop();  // idempotent
}

TEST(SoundDevice, ThrowingCallbackStopsItsDirectionAndIsReported) {
  SoundDeviceOptions o = null_devices();
  o.capture = false;
  SoundDevice device(o);
  device.start({}, [](std::span<float>) { throw std::runtime_error("engine gone"); });
  EXPECT_TRUE(wait_for([&] { return !device.stats().error.empty(); }, std::chrono::seconds(5)));
  EXPECT_NE(device.stats().error.find("playback callback failed: engine gone"), std::string::npos)
      << device.stats().error;
}

TEST(SoundDevice, OpenDirectionNeedsACallback) {
  SoundDeviceOptions o = null_devices();
  o.playback = false;
  SoundDevice device(o);
  EXPECT_THROW(device.start({}, {}), duet::Error);
}
