// Playout queue. Must never block longer than a copy of one buffer.
#include "dialog/playout.hpp"

#include <algorithm>

namespace duet::dialog {

void Playout::append(uint64_t id, std::span<const float> samples) {
  if (samples.empty()) return;
  std::lock_guard lock(mu_);
  queue_.push_back({id, std::vector<float>(samples.begin(), samples.end()), 0});
  queued_ += samples.size();
}

Playout::PullResult Playout::pull(std::span<float> out) {
  PullResult r;
  std::lock_guard lock(mu_);
  attached_ = true;
  size_t pos = 0;
  while (pos < out.size() && !queue_.empty()) {
    Piece& p = queue_.front();
    if (p.id != current_) {
      current_ = p.id;
      current_played_ = 0;
      r.started = p.id;
      r.started_offset = pos;
    }
    const size_t n = std::min(out.size() - pos, p.samples.size() - p.offset);
    std::copy_n(p.samples.begin() + static_cast<int64_t>(p.offset), n, out.begin() + static_cast<int64_t>(pos));
    p.offset += n;
    pos += n;
    queued_ -= n;
    current_played_ += static_cast<int64_t>(n);
    if (p.offset == p.samples.size()) {
      const uint64_t id = p.id;
      queue_.pop_front();
      if (queue_.empty() || queue_.front().id != id) r.drained = id;
    }
  }
  std::fill(out.begin() + static_cast<int64_t>(pos), out.end(), 0.0f);
  r.answer_samples = pos;
  return r;
}

Playout::Cut Playout::clear() {
  std::lock_guard lock(mu_);
  Cut c;
  if (!queue_.empty() || current_ != 0) {
    c.reply = current_;
    c.played = current_played_;
  }
  queue_.clear();
  queued_ = 0;
  return c;
}

int64_t Playout::played(uint64_t id) const {
  std::lock_guard lock(mu_);
  return id == current_ ? current_played_ : 0;
}

size_t Playout::queued() const {
  std::lock_guard lock(mu_);
  return queued_;
}

bool Playout::attached() const {
  std::lock_guard lock(mu_);
  return attached_;
}

}  // namespace duet::dialog
