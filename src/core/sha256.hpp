// SHA-256 of files and buffers, as lowercase hex, through OpenSSL. Must never load a whole large
// file into memory: files are hashed in chunks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

namespace duet {

std::string sha256_hex(std::span<const uint8_t> bytes);

// on_progress(bytes_done, bytes_total) is called after each chunk when given.
std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(uint64_t, uint64_t)>& on_progress = {});

}  // namespace duet
