// ZeroedPages: memory reads as zero, keeps what is written, moves without copying, and a large
// buffer costs resident memory only for the pages written (the reason KV caches use it).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "runtime/attention.hpp"
#include "runtime/zeroed_pages.hpp"

namespace duet::rt {
namespace {

// Resident set size of this process in bytes (from /proc/self/statm).
size_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(ZeroedPages, ReadsZeroAndKeepsWrites) {
  ZeroedPages p(1 << 20);
  ASSERT_EQ(p.size(), size_t{1} << 20);
  for (size_t i = 0; i < p.size(); i += 4093) EXPECT_EQ(p.data()[i], 0);
  std::memset(p.data() + 100, 7, 50);
  EXPECT_EQ(p.data()[99], 0);
  EXPECT_EQ(p.data()[100], 7);
  EXPECT_EQ(p.data()[149], 7);
  EXPECT_EQ(p.data()[150], 0);
}

TEST(ZeroedPages, MovesOwnership) {
  ZeroedPages a(4096);
  a.data()[0] = 42;
  uint8_t* where = a.data();
  ZeroedPages b(std::move(a));
  EXPECT_EQ(b.data(), where);
  EXPECT_EQ(b.data()[0], 42);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  ZeroedPages c;
  c = std::move(b);
  EXPECT_EQ(c.data()[0], 42);
  EXPECT_EQ(ZeroedPages(0).data(), nullptr);
}

TEST(ZeroedPages, OnlyWrittenPagesBecomeResident) {
  const size_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  ZeroedPages big(size_t{256} << 20);
  std::memset(big.data(), 1, size_t{4} << 20);  // the first 4 MiB are used
  const size_t after = resident_bytes();
  EXPECT_LT(after, before + (size_t{32} << 20)) << "a 256 MiB buffer with 4 MiB used";
}

TEST(KvCache, ASessionPaysOnlyForThePositionsItWrote) {
  const size_t before = resident_bytes();
  // 30 layers x 8192 positions x 3 heads x 64 x F16: 2 x 90 MiB reserved.
  KvCache kv(30, 8192, 3, 64, DType::F16);
  std::vector<float> k(3 * 64, 0.5f), v(3 * 64, -0.5f);
  for (int l = 0; l < kv.n_layer(); ++l) {
    for (int64_t pos = 0; pos < 64; ++pos) kv_store(kv.layer(l), pos, k.data(), v.data(), 1);
  }
  EXPECT_LT(resident_bytes(), before + (size_t{32} << 20));
}

}  // namespace
}  // namespace duet::rt
