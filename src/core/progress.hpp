// A one-line progress bar on stderr for long steps (downloads, hashing, conversion). On a terminal
// it redraws in place; elsewhere (CI logs) it prints a line at most every 25%. Must never write to
// stdout, which belongs to the command's real output.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace duet {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void update(uint64_t done, uint64_t total);
  void finish(const std::string& note = "done");

 private:
  std::string label_;
  bool tty_;
  bool finished_ = false;
  int last_quarter_ = -1;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace duet
