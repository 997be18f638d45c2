// WAV writing and reading agree: 16-bit samples come back exactly, float32 bit for bit, other
// floats within one 16-bit step; streamed/odd-chunked files read correctly; sox agrees with us.
// Must never depend on files outside a per-test temporary folder.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <utility>

#include "audio/wav.hpp"
#include "core/error.hpp"
#include "test_signals.hpp"

namespace duet {
namespace {

namespace fs = std::filesystem;
using test::Bytes;
using test::riff_wave;

AudioBuffer random_buffer(int rate, int channels, size_t frames, bool on_16bit_grid,
                          unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> int16_values(-32768, 32767);
  std::uniform_real_distribution<float> floats(-1.0f, 1.0f);
  AudioBuffer buffer{rate, channels, {}};
  buffer.samples.resize(frames * channels);
  for (float& s : buffer.samples) {
    s = on_16bit_grid ? static_cast<float>(int16_values(rng)) / 32768.0f : floats(rng);
  }
  if (on_16bit_grid && buffer.samples.size() >= 2) {  // the extremes must survive too
    buffer.samples[0] = -1.0f;
    buffer.samples[1] = 32767.0f / 32768.0f;
  }
  return buffer;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("duet_wav_") + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

struct RoundTripCase {
  int rate;
  int channels;
};

class WavRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(WavRoundTrip, Pcm16IsSampleExactOn16BitGrid) {
  const auto [rate, channels] = GetParam();
  const AudioBuffer original = random_buffer(rate, channels, 1001, true, rate + channels);
  const AudioBuffer decoded = read_wav_bytes(encode_wav(original, WavSampleFormat::Pcm16));
  EXPECT_EQ(decoded.sample_rate, rate);
  EXPECT_EQ(decoded.channels, channels);
  ASSERT_EQ(decoded.samples.size(), original.samples.size());
  for (size_t i = 0; i < original.samples.size(); ++i) {
    ASSERT_EQ(decoded.samples[i], original.samples[i]) << "sample " << i;
  }
}

TEST_P(WavRoundTrip, Pcm16ArbitraryFloatsWithinOneStep) {
  const auto [rate, channels] = GetParam();
  const AudioBuffer original = random_buffer(rate, channels, 777, false, 7 * rate + channels);
  const AudioBuffer decoded = read_wav_bytes(encode_wav(original, WavSampleFormat::Pcm16));
  ASSERT_EQ(decoded.samples.size(), original.samples.size());
  for (size_t i = 0; i < original.samples.size(); ++i) {
    ASSERT_NEAR(decoded.samples[i], original.samples[i], 1.0 / 32768.0) << "sample " << i;
  }
}

TEST_P(WavRoundTrip, Float32IsBitExact) {
  const auto [rate, channels] = GetParam();
  const AudioBuffer original = random_buffer(rate, channels, 999, false, 3 * rate + channels);
  const AudioBuffer decoded = read_wav_bytes(encode_wav(original, WavSampleFormat::Float32));
  EXPECT_EQ(decoded.sample_rate, rate);
  EXPECT_EQ(decoded.channels, channels);
  EXPECT_EQ(decoded.samples, original.samples);
}

INSTANTIATE_TEST_SUITE_P(RatesAndChannels, WavRoundTrip,
                         ::testing::Values(RoundTripCase{11025, 1}, RoundTripCase{11025, 2},
                                           RoundTripCase{44100, 1}, RoundTripCase{44100, 2},
                                           RoundTripCase{16000, 1}, RoundTripCase{22050, 2},
                                           RoundTripCase{1, 1}, RoundTripCase{768000, 2}),
                         [](const auto& param_info) {
                           return std::to_string(param_info.param.rate) + "Hz_" +
                                  std::to_string(param_info.param.channels) + "ch";
                         });

using WavFiles = TempDir;

TEST_F(WavFiles, WriteThenReadFromDisk) {
  const AudioBuffer original = random_buffer(24000, 2, 480, true, 42);
  const fs::path path = dir_ / "stereo.wav";
  write_wav(path, original, WavSampleFormat::Pcm16);
  EXPECT_EQ(fs::file_size(path), 44u + 480u * 2u * 2u);
  const AudioBuffer decoded = read_wav(path);
  EXPECT_EQ(decoded.samples, original.samples);
  EXPECT_DOUBLE_EQ(decoded.duration_seconds(), 0.02);
}

TEST_F(WavFiles, WriteIntoMissingFolderIsAnError) {
  const AudioBuffer buffer{16000, 1, {0.0f, 0.5f}};
  try {
    write_wav(dir_ / "no" / "such" / "folder" / "x.wav", buffer);
    FAIL() << "expected duet::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write WAV"), std::string::npos) << e.what();
  }
}

TEST_F(WavFiles, ReadMissingFileIsAnError) {
  EXPECT_THROW(read_wav(dir_ / "absent.wav"), Error);
}

TEST_F(WavFiles, SoxReadsOursAndWeReadSoxExtensibleFloat) {
  if (std::system("sox --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "sox not installed";
  const fs::path ours = dir_ / "ours.wav";
  write_wav(ours, AudioBuffer{44100, 2, test::sine(440.0, 44100, 0.1, 0.5)},
            WavSampleFormat::Float32);
  const std::string check = "sox " + ours.string() + " -n stat 2> /dev/null";
  EXPECT_EQ(std::system(check.c_str()), 0);

  const fs::path theirs = dir_ / "sox_float.wav";  // sox writes >16-bit WAVs as EXTENSIBLE
  const std::string make = "sox -n -r 48000 -c 1 -b 32 -e floating-point " + theirs.string() +
                           " synth 0.25 sine 1000 vol 0.5";
  ASSERT_EQ(std::system(make.c_str()), 0);
  const AudioBuffer decoded = read_wav(theirs);
  EXPECT_EQ(decoded.sample_rate, 48000);
  EXPECT_EQ(decoded.channels, 1);
  EXPECT_EQ(decoded.frames(), 12000u);
  EXPECT_NEAR(test::rms(decoded.samples), 0.5 / std::sqrt(2.0), 0.01);
}

TEST(WavRead, ExtensiblePcm16AndFloat32AreAccepted) {
  for (const auto& [subformat, bits] : {std::pair<uint16_t, uint16_t>{1, 16}, {3, 32}}) {
    Bytes b = riff_wave();
    b.extensible_fmt_chunk(subformat, 2, 32000, bits).tag("data").u32(bits / 8 * 2 * 3);
    b.zeros(bits / 8 * 2 * 3).fix_riff_size();
    const AudioBuffer decoded = read_wav_bytes(b.get());
    EXPECT_EQ(decoded.channels, 2);
    EXPECT_EQ(decoded.sample_rate, 32000);
    EXPECT_EQ(decoded.frames(), 3u);
  }
}

TEST(WavRead, SkipsUnknownChunksWithOddSizePadding) {
  Bytes b = riff_wave();
  b.tag("LIST").u32(5).tag("INFO").zeros(1).zeros(1);  // 5 bytes + 1 pad byte
  b.fmt_chunk(1, 1, 8000, 16, 2);
  b.tag("junk").u32(3).zeros(3).zeros(1);
  b.tag("data").u32(4).u16(0x4000).u16(0xC000);
  b.tag("LIST").u32(1).zeros(1);  // trailing metadata without its pad byte at end of file
  b.fix_riff_size();
  const AudioBuffer decoded = read_wav_bytes(b.get());
  ASSERT_EQ(decoded.samples.size(), 2u);
  EXPECT_EQ(decoded.samples[0], 0.5f);
  EXPECT_EQ(decoded.samples[1], -0.5f);
}

TEST(WavRead, FmtChunkAfterDataChunkIsFound) {
  Bytes b = riff_wave();
  b.tag("data").u32(2).u16(0x2000);
  b.fmt_chunk(1, 1, 8000, 16, 2).fix_riff_size();
  const AudioBuffer decoded = read_wav_bytes(b.get());
  ASSERT_EQ(decoded.samples.size(), 1u);
  EXPECT_EQ(decoded.samples[0], 0.25f);
}

TEST(WavRead, StreamedDataSizeUsesWhatIsThere) {
  Bytes b = riff_wave();
  b.fmt_chunk(1, 2, 16000, 16, 4).tag("data").u32(0xFFFFFFFFu);
  for (int i = 0; i < 10; ++i) b.u16(static_cast<uint16_t>(i * 100));
  b.zeros(3);  // a partial trailing frame is dropped
  const AudioBuffer decoded = read_wav_bytes(b.get());
  EXPECT_EQ(decoded.frames(), 5u);
  EXPECT_EQ(decoded.samples[9], 900.0f / 32768.0f);
}

TEST(WavRead, StreamedHeaderWithZeroSizesUsesWhatIsThere) {
  for (const uint32_t riff_size : {0u, 0xFFFFFFFFu}) {
    Bytes b;
    b.tag("RIFF").u32(riff_size).tag("WAVE").fmt_chunk(1, 1, 16000, 16, 2).tag("data").u32(0);
    b.u16(0x1000).u16(0x2000).u16(0x3000);
    const AudioBuffer decoded = read_wav_bytes(b.get());
    ASSERT_EQ(decoded.frames(), 3u) << "RIFF size " << riff_size;
    EXPECT_EQ(decoded.samples[2], 0x3000 / 32768.0f);
  }
}

TEST(WavRead, DataChunkLargerThanFileUsesWhatIsThere) {
  const AudioBuffer original = random_buffer(16000, 1, 1000, true, 5);
  std::vector<uint8_t> bytes = encode_wav(original);
  bytes.resize(44 + 2 * 600 + 1);  // cut inside the audio, mid-sample
  const AudioBuffer decoded = read_wav_bytes(bytes);
  ASSERT_EQ(decoded.frames(), 600u);
  EXPECT_TRUE(std::equal(decoded.samples.begin(), decoded.samples.end(), original.samples.begin()));
}

TEST(WavRead, EmptyDataChunkIsAnEmptyBuffer) {
  Bytes b = riff_wave();
  b.fmt_chunk(1, 1, 16000, 16, 2).tag("data").u32(0).fix_riff_size();
  const AudioBuffer decoded = read_wav_bytes(b.get());
  EXPECT_EQ(decoded.frames(), 0u);
  EXPECT_EQ(decoded.sample_rate, 16000);
}

TEST(WavRead, NonFiniteFloatsBecomeZero) {
  const AudioBuffer original{8000, 1, {NAN, INFINITY, -INFINITY, 0.25f}};
  const AudioBuffer decoded = read_wav_bytes(encode_wav(original, WavSampleFormat::Float32));
  EXPECT_EQ(decoded.samples, (std::vector<float>{0.0f, 0.0f, 0.0f, 0.25f}));
}

TEST(WavWrite, Pcm16ClampsOutOfRangeAndNonFinite) {
  const AudioBuffer loud{8000, 1, {1.5f, -3.0f, 1.0f, NAN}};
  const AudioBuffer decoded = read_wav_bytes(encode_wav(loud, WavSampleFormat::Pcm16));
  EXPECT_EQ(decoded.samples[0], 32767.0f / 32768.0f);
  EXPECT_EQ(decoded.samples[1], -1.0f);
  EXPECT_EQ(decoded.samples[2], 32767.0f / 32768.0f);
  EXPECT_EQ(decoded.samples[3], 0.0f);
}

TEST(WavWrite, RejectsBuffersItCannotStore) {
  EXPECT_THROW(encode_wav(AudioBuffer{16000, 3, std::vector<float>(6)}), Error);
  EXPECT_THROW(encode_wav(AudioBuffer{16000, 0, {}}), Error);
  EXPECT_THROW(encode_wav(AudioBuffer{0, 1, {0.0f}}), Error);
  EXPECT_THROW(encode_wav(AudioBuffer{16000, 2, std::vector<float>(3)}), Error);
}

TEST(AudioBufferHelpers, FramesDurationAndMono) {
  const AudioBuffer stereo{4, 2, {1.0f, 0.0f, 0.5f, 0.5f, -1.0f, 1.0f, 0.2f, 0.4f}};
  EXPECT_EQ(stereo.frames(), 4u);
  EXPECT_DOUBLE_EQ(stereo.duration_seconds(), 1.0);
  const AudioBuffer mono = stereo.to_mono();
  EXPECT_EQ(mono.channels, 1);
  EXPECT_EQ(mono.sample_rate, 4);
  ASSERT_EQ(mono.samples.size(), 4u);
  EXPECT_FLOAT_EQ(mono.samples[0], 0.5f);
  EXPECT_FLOAT_EQ(mono.samples[1], 0.5f);
  EXPECT_FLOAT_EQ(mono.samples[2], 0.0f);
  EXPECT_FLOAT_EQ(mono.samples[3], 0.3f);
  EXPECT_EQ(mono.to_mono().samples, mono.samples);
  EXPECT_EQ(AudioBuffer{}.duration_seconds(), 0.0);
}

}  // namespace
}  // namespace duet
