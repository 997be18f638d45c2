// OnsetTrim: finds the first 2 ms window louder than -55 dBFS and starts the answer 3 ms before it.
// Must never reorder words or samples.
#include "dialog/onset_trim.hpp"

#include <algorithm>

namespace duet::dialog {
namespace {

// -55 dBFS in mean square: below what a listener hears over a room's noise.
constexpr double kAudibleMeanSquare = 3.16e-6;

}  // namespace

OnsetTrim::OnsetTrim(int sample_rate)
    : window_(std::max(1, sample_rate / 500)),
      margin_(std::max(1, sample_rate * 3 / 1000)),
      max_trim_(static_cast<int64_t>(sample_rate) * 3 / 10) {}

void OnsetTrim::apply(std::vector<float>& samples, std::vector<WordMark>& words) {
  if (!done_) {
    const auto n = static_cast<int64_t>(samples.size());
    int64_t first = -1;  // the first audible window's start
    for (int64_t at = 0; at < n; at += window_) {
      const int64_t end = std::min(n, at + window_);
      double sum = 0.0;
      for (int64_t i = at; i < end; ++i) sum += static_cast<double>(samples[i]) * samples[i];
      if (sum / static_cast<double>(end - at) > kAudibleMeanSquare) {
        first = at;
        break;
      }
    }
    int64_t cut = first < 0 ? n : std::max<int64_t>(0, first - margin_);
    cut = std::min(cut, max_trim_ - trimmed_);
    samples.erase(samples.begin(), samples.begin() + cut);
    trimmed_ += cut;
    if (first >= 0 || trimmed_ >= max_trim_) {
      done_ = true;
      // A fade-in over the quiet margin kept before the first audible window, so the cut never
      // clicks (audio that was audible from its first sample is left as it is).
      const int64_t quiet_kept = first >= 0 ? first - cut : 0;
      const int64_t fade = trimmed_ > 0 ? std::min<int64_t>(quiet_kept, static_cast<int64_t>(samples.size())) : 0;
      for (int64_t i = 0; i < fade; ++i) samples[i] *= static_cast<float>(i) / static_cast<float>(fade);
    }
  }
  if (!carried_.empty()) {
    words.insert(words.begin(), carried_.begin(), carried_.end());
    carried_.clear();
  }
  if (samples.empty()) {  // nothing to speak yet: the words wait (unshifted) for the next chunk
    carried_ = std::move(words);
    words.clear();
    return;
  }
  for (auto& w : words) w.start_sample = std::max<int64_t>(0, w.start_sample - trimmed_);
}

}  // namespace duet::dialog
