// Specification of the GGUF reader: what it accepts, and the one clear error it gives for each kind
// of malformed file (never a crash, never a read outside the file).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "gguf_builder.hpp"
#include "runtime/gguf.hpp"

using duet::rt::DType;
using duet::rt::GgufFile;
using duet::test::f32_bytes;
using duet::test::GgufBuilder;

namespace {

constexpr uint32_t kF32 = 0;

std::vector<uint8_t> valid_file() {
  GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("llama.block_count", 2)
      .kv_f32("llama.rope.freq_base", 10000.0f)
      .kv_strings("tokenizer.ggml.tokens", {"a", "b", "<s>"})
      .kv_i32s("tokenizer.ggml.token_type", {1, 1, 3});
  b.tensor("w", {4, 2}, kF32, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  b.tensor("v", {3}, kF32, f32_bytes({9, 10, 11}));
  return b.finish();
}

// Expects parse to throw duet::Error whose message contains `needle`.
void expect_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    GgufFile::parse(bytes, "test.gguf");
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.gguf"), std::string::npos) << "error names the file";
  }
}

}  // namespace

TEST(GgufReader, ReadsMetadataOfEveryKind) {
  auto bytes = valid_file();
  auto f = GgufFile::parse(bytes, "test.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 2);
  EXPECT_FLOAT_EQ(f.get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(f.get_array("tokenizer.ggml.tokens").strings.size(), 3u);
  EXPECT_EQ(f.get_array("tokenizer.ggml.token_type").ints[2], 3);
  EXPECT_EQ(f.get_int("missing.key", 7), 7);
}

TEST(GgufReader, TensorsPointIntoTheFileWithoutCopying) {
  auto bytes = valid_file();
  auto f = GgufFile::parse(bytes, "test.gguf");
  const auto& w = f.tensor("w");
  EXPECT_EQ(w.type, DType::F32);
  EXPECT_EQ(w.ne[0], 4);
  EXPECT_EQ(w.ne[1], 2);
  EXPECT_EQ(w.nbytes, 32u);
  EXPECT_GE(w.data, bytes.data());
  EXPECT_LE(w.data + w.nbytes, bytes.data() + bytes.size());
  EXPECT_EQ(reinterpret_cast<const float*>(w.data)[5], 6.0f);
  EXPECT_EQ(reinterpret_cast<const float*>(f.tensor("v").data)[2], 11.0f);
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST(GgufReader, MissingKeyAndWrongTypeNameTheKey) {
  auto bytes = valid_file();
  auto f = GgufFile::parse(bytes, "test.gguf");
  EXPECT_THROW(f.get_int("llama.context_length"), duet::Error);
  try {
    f.get_int("general.architecture");
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos);
  }
  EXPECT_THROW(f.tensor("nope"), duet::Error);
}

TEST(GgufReader, RejectsWrongMagic) {
  GgufBuilder b(3, 0x46554746);
  expect_error(b.finish(), "not a GGUF file");
}

TEST(GgufReader, RejectsUnsupportedVersion) {
  expect_error(GgufBuilder(1).finish(), "version 1");
  expect_error(GgufBuilder(99).finish(), "version 99");
}

TEST(GgufReader, RejectsEveryTruncation) {
  auto bytes = valid_file();
  // A prefix that still holds every tensor's data (only trailing padding cut) is a valid file;
  // every shorter prefix is rejected with an error.
  const auto full = GgufFile::parse(bytes, "test.gguf");
  const auto& last = full.tensor("v");
  const size_t needed = static_cast<size_t>(last.data - bytes.data()) + last.nbytes;
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(len));
    if (len < needed) {
      EXPECT_THROW(GgufFile::parse(cut, "test.gguf"), duet::Error) << "prefix of " << len << " bytes";
    } else {
      EXPECT_NO_THROW(GgufFile::parse(cut, "test.gguf")) << "prefix of " << len << " bytes";
    }
  }
}

TEST(GgufReader, RejectsTensorDataOutsideTheFile) {
  GgufBuilder b;
  b.tensor("w", {4}, kF32, f32_bytes({1, 2, 3, 4}), /*offset_override=*/1 << 20);
  expect_error(b.finish(), "outside the file");
}

TEST(GgufReader, RejectsUnknownTensorType) {
  GgufBuilder b;
  b.tensor("w", {4}, 77, f32_bytes({1, 2, 3, 4}));
  expect_error(b.finish(), "type id 77");
}

TEST(GgufReader, RejectsAbsurdDimensions) {
  GgufBuilder b;
  b.tensor("w", {1ull << 41, 1ull << 41}, kF32, f32_bytes({1, 2, 3, 4}));
  expect_error(b.finish(), "absurd dimension");
  GgufBuilder zero;
  zero.tensor("w", {0}, kF32, {});
  expect_error(zero.finish(), "absurd dimension");
}

TEST(GgufReader, RejectsTooManyDimensions) {
  GgufBuilder b;
  b.tensor("w", {1, 1, 1, 1, 1}, kF32, f32_bytes({1}));
  expect_error(b.finish(), "5 dimensions");
}

TEST(GgufReader, RejectsRowsThatSplitAQuantBlock) {
  GgufBuilder b;
  b.tensor("w", {33}, 8 /* Q8_0, 32 per block */, std::vector<uint8_t>(68, 0));
  expect_error(b.finish(), "block size");
}

TEST(GgufReader, RejectsAbsurdCountsAndLengths) {
  GgufBuilder many;
  many.put_string("k");
  auto bytes = many.finish();
  const uint64_t huge = 1ull << 60;
  std::memcpy(bytes.data() + 16, &huge, 8);  // metadata count
  expect_error(bytes, "metadata count");

  GgufBuilder longstr;
  longstr.put<uint64_t>(1ull << 50);  // a key claiming a petabyte
  for (int i = 0; i < 64; ++i) longstr.put<uint8_t>(0);
  auto b2 = longstr.finish();
  const uint64_t one = 1;
  std::memcpy(b2.data() + 16, &one, 8);
  expect_error(b2, "claims");
}

TEST(GgufReader, RejectsDuplicateKeysAndTensors) {
  GgufBuilder b;
  b.kv_u32("a", 1).kv_u32("a", 2);
  expect_error(b.finish(), "appears twice");
  GgufBuilder t;
  t.tensor("w", {1}, kF32, f32_bytes({1})).tensor("w", {1}, kF32, f32_bytes({1}));
  expect_error(t.finish(), "appears twice");
}

TEST(GgufReader, RejectsBadAlignment) {
  GgufBuilder b;
  b.kv_u32("general.alignment", 24);
  expect_error(b.finish(), "power of two");
}

TEST(GgufReader, OpeningAMissingFileSaysSo) {
  EXPECT_THROW(GgufFile::open("/nonexistent/model.gguf"), duet::Error);
}

TEST(GgufReader, OpensTheDefaultLlmWhenPresent) {
  const char* env = std::getenv("DUET_MODELS");
  const std::filesystem::path dir = env ? env : DUET_SOURCE_DIR "/models";
  const auto path = dir / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "model not pulled: " << path;
  auto f = GgufFile::open(path);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 30);
  EXPECT_NE(f.find_tensor("token_embd.weight"), nullptr);
  EXPECT_EQ(f.get_array("tokenizer.ggml.tokens").strings.size(), 49152u);
}
