// Unit tests for the GPT-2 byte <-> code point mapping. Must never need a model file.
#include <gtest/gtest.h>

#include <set>

#include "text/byte_unicode.hpp"

using namespace duet::text;

TEST(ByteUnicode, KnownStandIns) {
  EXPECT_EQ(byte_to_unicode(' '), 0x120u);   // Ġ
  EXPECT_EQ(byte_to_unicode('\n'), 0x10Au);  // Ċ
  EXPECT_EQ(byte_to_unicode('\t'), 0x109u);  // ĉ
  EXPECT_EQ(byte_to_unicode(0x00), 0x100u);
  EXPECT_EQ(byte_to_unicode('A'), uint32_t('A'));
  EXPECT_EQ(byte_to_unicode('~'), uint32_t('~'));
  EXPECT_EQ(byte_to_unicode(0x7F), 0x121u);
  EXPECT_EQ(byte_to_unicode(0xA0), 0x142u);
  EXPECT_EQ(byte_to_unicode(0xA1), 0xA1u);
  EXPECT_EQ(byte_to_unicode(0xAD), 0x143u);
  EXPECT_EQ(byte_to_unicode(0xFF), 0xFFu);
}

TEST(ByteUnicode, IsABijection) {
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = byte_to_unicode(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(cp).second) << b;
    ASSERT_TRUE(unicode_to_byte(cp).has_value()) << b;
    EXPECT_EQ(*unicode_to_byte(cp), b);
  }
  EXPECT_FALSE(unicode_to_byte(' ').has_value());
  EXPECT_FALSE(unicode_to_byte(0x144).has_value());
  EXPECT_FALSE(unicode_to_byte(0x20AC).has_value());
}
