// SHA-256 through OpenSSL's EVP interface, streaming files in 1 MiB chunks.
#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "core/error.hpp"

namespace duet {
namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Digest = std::unique_ptr<EVP_MD_CTX, DigestDeleter>;

Digest new_digest() {
  Digest ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    fail("sha256: OpenSSL could not start a digest");
  }
  return ctx;
}

std::string finish_hex(EVP_MD_CTX* ctx) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 15]);
  }
  return hex;
}

}  // namespace

std::string sha256_hex(std::span<const uint8_t> bytes) {
  Digest ctx = new_digest();
  EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
  return finish_hex(ctx.get());
}

std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(uint64_t, uint64_t)>& on_progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {} for hashing", path.string());
  std::error_code ec;
  const uint64_t total = std::filesystem::file_size(path, ec);
  Digest ctx = new_digest();
  std::vector<char> buf(1 << 20);
  uint64_t done = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got <= 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(got));
    done += static_cast<uint64_t>(got);
    if (on_progress) on_progress(done, total);
  }
  if (in.bad()) fail("read error while hashing {}", path.string());
  return finish_hex(ctx.get());
}

}  // namespace duet
