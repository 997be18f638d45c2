// ProgressBar: throttled redraws (at most 10 per second) so hashing speed is not bound by stderr.
#include "core/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace duet {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), tty_(::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() {
  if (!finished_ && tty_) std::fputc('\n', stderr);
}

void ProgressBar::update(uint64_t done, uint64_t total) {
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  if (tty_) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    fmt::print(stderr, "\r{:<28} [{}{}] {:5.1f}% {:.1f}/{:.1f} MB", label_, std::string(filled, '#'),
               std::string(kWidth - filled, '.'), frac * 100.0, done / 1e6, total / 1e6);
    std::fflush(stderr);
  } else {
    const int quarter = static_cast<int>(frac * 4);
    if (quarter > last_quarter_) {
      last_quarter_ = quarter;
      fmt::print(stderr, "{}: {:.0f}% of {:.1f} MB\n", label_, frac * 100.0, total / 1e6);
    }
  }
}

void ProgressBar::finish(const std::string& note) {
  if (finished_) return;
  finished_ = true;
  if (tty_) {
    fmt::print(stderr, "\r{:<28} {}{}\n", label_, note, std::string(40, ' '));
  } else {
    fmt::print(stderr, "{}: {}\n", label_, note);
  }
}

}  // namespace duet
