// Tests of the dtype table, block sizes and fp16/bf16 conversions.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "core/error.hpp"
#include "runtime/dtype.hpp"
#include "runtime/half.hpp"
#include "runtime/quant_blocks.hpp"

namespace duet::rt {
namespace {

TEST(DType, LayoutsMatchBlockStructs) {
  struct Case {
    DType type;
    int64_t elems;
    size_t bytes;
  };
  const Case cases[] = {
      {DType::F32, 1, 4},
      {DType::F16, 1, 2},
      {DType::BF16, 1, 2},
      {DType::Q4_0, 32, sizeof(BlockQ4_0)},
      {DType::Q4_1, 32, sizeof(BlockQ4_1)},
      {DType::Q5_0, 32, sizeof(BlockQ5_0)},
      {DType::Q5_1, 32, sizeof(BlockQ5_1)},
      {DType::Q8_0, 32, sizeof(BlockQ8_0)},
      {DType::Q8_1, 32, sizeof(BlockQ8_1)},
      {DType::Q2_K, 256, sizeof(BlockQ2_K)},
      {DType::Q3_K, 256, sizeof(BlockQ3_K)},
      {DType::Q4_K, 256, sizeof(BlockQ4_K)},
      {DType::Q5_K, 256, sizeof(BlockQ5_K)},
      {DType::Q6_K, 256, sizeof(BlockQ6_K)},
      {DType::Q8_K, 256, sizeof(BlockQ8_K)},
  };
  for (const Case& c : cases) {
    const auto layout = dtype_layout(static_cast<uint32_t>(c.type));
    ASSERT_TRUE(layout.has_value()) << dtype_name(c.type);
    EXPECT_EQ(layout->block_elems, c.elems) << layout->name;
    EXPECT_EQ(layout->block_bytes, c.bytes) << layout->name;
    EXPECT_EQ(dtype_from_name(layout->name), c.type);
  }
  EXPECT_EQ(sizeof(BlockQ4_K), 144u);
  EXPECT_EQ(sizeof(BlockQ6_K), 210u);
}

TEST(DType, RowBytesAndUnknownIds) {
  EXPECT_EQ(dtype_row_bytes(DType::Q4_1, 576), 18u * 20u);
  EXPECT_EQ(dtype_row_bytes(DType::Q6_K, 512), 2u * 210u);
  EXPECT_EQ(dtype_row_bytes(DType::F16, 7), 14u);
  EXPECT_THROW(dtype_row_bytes(DType::Q4_K, 576), Error);
  EXPECT_FALSE(dtype_layout(4).has_value());  // removed Q4_2
  EXPECT_FALSE(dtype_layout(999).has_value());
  EXPECT_FALSE(dtype_from_name("Q9_9").has_value());
  EXPECT_EQ(dtype_name(DType::Q5_K), "Q5_K");
}

TEST(Half, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    const _Float16 ref = std::bit_cast<_Float16>(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(static_cast<float>(ref)));
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    EXPECT_EQ(std::bit_cast<uint32_t>(f), std::bit_cast<uint32_t>(static_cast<float>(ref))) << h;
    EXPECT_EQ(fp32_to_fp16(f), h) << h;
  }
}

TEST(Half, RoundsToNearestEvenLikeTheCompiler) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 2000000; ++i) {
    // Bias exponents towards the half range, including subnormals and overflow.
    uint32_t x = bits(rng);
    const uint32_t exp = 95 + (x >> 24) % 50;  // 2^-32 .. 2^17
    x = (x & 0x807fffffu) | (exp << 23);
    const float f = std::bit_cast<float>(x);
    const uint16_t ref = std::bit_cast<uint16_t>(static_cast<_Float16>(f));
    ASSERT_EQ(fp32_to_fp16(f), ref) << std::hexfloat << f;
  }
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bffu);
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bffu);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00u);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xfc00u);
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001u);
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000u);  // tie to even
  EXPECT_EQ(fp32_to_fp16(0x1.8p-25f), 0x0001u);
}

TEST(BFloat16, RoundTripAndRounding) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(fp32_to_bf16(f), h);
  }
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80u);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82u);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81u);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7f800001u)) & 0x7fc0u, 0x7fc0u);  // NaN quieted
}

}  // namespace
}  // namespace duet::rt
