// Every kind of bad WAV input ends in a duet::Error whose message names the problem (and, for
// codecs, how to convert), never in a crash or an out-of-bounds read (run under ASan/UBSan too).
// Must never accept a file silently that it cannot decode faithfully.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "audio/wav.hpp"
#include "core/error.hpp"
#include "test_signals.hpp"

namespace duet {
namespace {

using test::Bytes;
using test::riff_wave;

// The message of the duet::Error that reading `bytes` throws (fails the test if none is thrown).
std::string rejection(const std::vector<uint8_t>& bytes) {
  try {
    read_wav_bytes(bytes, "test.wav");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a duet::Error";
  return {};
}

::testing::AssertionResult mentions(const std::string& message, const std::string& needle) {
  if (message.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "message \"" << message << "\" does not mention \""
                                       << needle << "\"";
}

std::vector<uint8_t> with_fmt(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits,
                              uint16_t block_align, uint32_t data_bytes = 8) {
  Bytes b = riff_wave();
  b.fmt_chunk(tag, channels, rate, bits, block_align).tag("data").u32(data_bytes);
  return b.zeros(data_bytes).fix_riff_size().get();
}

std::vector<uint8_t> valid_wav() {
  return encode_wav(AudioBuffer{16000, 1, test::sine(440.0, 16000, 0.01, 0.5)});
}

TEST(WavReject, ZeroLengthFile) {
  EXPECT_TRUE(mentions(rejection({}), "empty"));
}

TEST(WavReject, MessageNamesTheSource) {
  EXPECT_TRUE(mentions(rejection({}), "test.wav"));
}

TEST(WavReject, FileTooShortForRiffHeader) {
  Bytes b;
  b.tag("RIFF").u32(36);
  EXPECT_TRUE(mentions(rejection(b.get()), "truncated header"));
}

TEST(WavReject, TruncatedHeaderInsideFmtChunk) {
  std::vector<uint8_t> bytes = valid_wav();
  bytes.resize(30);
  EXPECT_TRUE(mentions(rejection(bytes), "truncated header"));
}

TEST(WavReject, TruncatedInsideChunkHeader) {
  std::vector<uint8_t> bytes = valid_wav();
  bytes.resize(40);  // fmt complete, 4 of the 8 bytes of the data chunk header
  EXPECT_TRUE(mentions(rejection(bytes), "truncated header"));
}

TEST(WavReject, EveryHeaderPrefixIsAnError) {
  const std::vector<uint8_t> bytes = valid_wav();
  for (size_t length = 0; length <= 44; ++length) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + length);
    EXPECT_THROW(read_wav_bytes(prefix), Error) << "prefix of " << length << " bytes";
  }
}

TEST(WavReject, TruncatedData) {
  std::vector<uint8_t> bytes = with_fmt(1, 2, 16000, 16, 4, 1000);
  bytes.resize(44 + 3);  // 1000 bytes promised, 3 present: not one 4-byte frame
  EXPECT_TRUE(mentions(rejection(bytes), "truncated data"));
}

TEST(WavReject, WrongMagicWithHints) {
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'};
  EXPECT_TRUE(mentions(rejection(text), "wrong magic"));
  Bytes rifx;
  rifx.tag("RIFX").u32(100).tag("WAVE");
  EXPECT_TRUE(mentions(rejection(rifx.get()), "RIFX"));
  Bytes rf64;
  rf64.tag("RF64").u32(0xFFFFFFFF).tag("WAVE");
  EXPECT_TRUE(mentions(rejection(rf64.get()), "RF64"));
  EXPECT_TRUE(mentions(rejection({'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0, 0, 0}), "MP3"));
  EXPECT_TRUE(mentions(rejection({0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0}), "MP3"));
  Bytes ogg;
  ogg.tag("OggS").zeros(20);
  EXPECT_TRUE(mentions(rejection(ogg.get()), "Ogg"));
  Bytes flac;
  flac.tag("fLaC").zeros(20);
  EXPECT_TRUE(mentions(rejection(flac.get()), "FLAC"));
  Bytes avi;
  avi.tag("RIFF").u32(100).tag("AVI ").zeros(20);
  EXPECT_TRUE(mentions(rejection(avi.get()), "not WAVE"));
  EXPECT_TRUE(mentions(rejection({'O', 'g', 'g'}), "truncated header"));
}

TEST(WavReject, MissingFmtChunk) {
  Bytes b = riff_wave();
  b.tag("data").u32(4).zeros(4).fix_riff_size();
  EXPECT_TRUE(mentions(rejection(b.get()), "missing fmt chunk"));
  EXPECT_TRUE(mentions(rejection(riff_wave().fix_riff_size().get()), "missing fmt chunk"));
}

TEST(WavReject, MissingDataChunk) {
  Bytes b = riff_wave();
  b.fmt_chunk(1, 1, 16000, 16, 2).tag("LIST").u32(4).zeros(4).fix_riff_size();
  EXPECT_TRUE(mentions(rejection(b.get()), "missing data chunk"));
}

TEST(WavReject, ZeroChannels) {
  EXPECT_TRUE(mentions(rejection(with_fmt(1, 0, 16000, 16, 0)), "zero channels"));
}

TEST(WavReject, ZeroOrAbsurdSampleRate) {
  EXPECT_TRUE(mentions(rejection(with_fmt(1, 1, 0, 16, 2)), "sample rate is 0"));
  EXPECT_TRUE(mentions(rejection(with_fmt(1, 1, 768001, 16, 2)), "absurd sample rate"));
  EXPECT_TRUE(mentions(rejection(with_fmt(1, 1, 0xFFFFFFFFu, 16, 2)), "absurd sample rate"));
}

TEST(WavReject, ChunkSizeBeyondFile) {
  Bytes b = riff_wave();
  b.tag("LIST").u32(0x7FFFFFF0u).zeros(16);
  EXPECT_TRUE(mentions(rejection(b.get()), "claims 2147483632 bytes"));
}

TEST(WavReject, AbsurdFmtChunkSize) {
  Bytes huge = riff_wave();
  huge.tag("fmt ").u32(0xFFFFFFF0u).u16(1).u16(1).u32(16000).u32(32000).u16(2).u16(16);
  EXPECT_TRUE(mentions(rejection(huge.get()), "fmt chunk needs 4294967280 bytes"));
  Bytes tiny = riff_wave();
  tiny.tag("fmt ").u32(8).u16(1).u16(1).u32(16000).tag("data").u32(0);
  EXPECT_TRUE(mentions(rejection(tiny.get()), "fmt chunk is 8 bytes"));
}

TEST(WavReject, BlockAlignMismatch) {
  EXPECT_TRUE(mentions(rejection(with_fmt(1, 2, 16000, 16, 2)), "block align"));
  EXPECT_TRUE(mentions(rejection(with_fmt(3, 1, 16000, 32, 0)), "block align"));
}

TEST(WavReject, UnsupportedCodecsAreNamedWithAConversionHint) {
  struct Case {
    uint16_t tag;
    uint16_t bits;
    const char* name;
  };
  for (const Case& c : {Case{1, 8, "8-bit PCM"}, Case{1, 24, "24-bit PCM"},
                        Case{1, 32, "32-bit integer PCM"}, Case{3, 64, "64-bit float"},
                        Case{2, 4, "Microsoft ADPCM"}, Case{0x11, 4, "IMA ADPCM"},
                        Case{7, 8, "mu-law"}, Case{6, 8, "A-law"}, Case{0x55, 0, "MP3"},
                        Case{0x1234, 16, "format tag 0x1234"}}) {
    const std::string message = rejection(with_fmt(c.tag, 1, 8000, c.bits, 1));
    EXPECT_TRUE(mentions(message, "unsupported codec")) << c.name;
    EXPECT_TRUE(mentions(message, c.name));
    EXPECT_TRUE(mentions(message, "sox in.wav"));
  }
}

TEST(WavReject, UnsupportedExtensibleSubformats) {
  Bytes pcm24 = riff_wave();
  pcm24.extensible_fmt_chunk(1, 1, 48000, 24).tag("data").u32(3).zeros(3).zeros(1);
  EXPECT_TRUE(mentions(rejection(pcm24.fix_riff_size().get()), "24-bit PCM"));
  Bytes odd_guid = riff_wave();
  odd_guid.extensible_fmt_chunk(1, 1, 48000, 16, false).tag("data").u32(2).zeros(2);
  EXPECT_TRUE(mentions(rejection(odd_guid.fix_riff_size().get()), "subformat"));
  Bytes short_fmt = riff_wave();
  short_fmt.tag("fmt ").u32(18).u16(0xFFFE).u16(1).u32(8000).u32(16000).u16(2).u16(16).u16(0);
  short_fmt.tag("data").u32(2).zeros(2);
  EXPECT_TRUE(mentions(rejection(short_fmt.fix_riff_size().get()), "WAVE_FORMAT_EXTENSIBLE"));
}

TEST(WavReject, MoreThanTwoChannels) {
  const std::string message = rejection(with_fmt(1, 6, 48000, 16, 12, 12));
  EXPECT_TRUE(mentions(message, "6 channels"));
  EXPECT_TRUE(mentions(message, "sox in.wav -c 1"));
}

// Random corruption of a valid file: each result is a buffer or a duet::Error, nothing else.
TEST(WavReject, RandomCorruptionNeverCrashes) {
  const std::vector<uint8_t> original =
      encode_wav(AudioBuffer{22050, 2, test::sine(300.0, 22050, 0.004, 0.3)});
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> position(0, 63);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, original.size());
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::vector<uint8_t> bytes = original;
    const int flips = 1 + round % 4;
    for (int i = 0; i < flips; ++i) bytes[position(rng)] = static_cast<uint8_t>(byte(rng));
    if (round % 3 == 0) bytes.resize(length(rng));
    try {
      const AudioBuffer decoded = read_wav_bytes(bytes);
      EXPECT_LE(decoded.samples.size() * 2, bytes.size());
      ++accepted;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace duet
