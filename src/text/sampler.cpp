// Token sampling (see sampler.hpp). Filters work on the candidate buffer in place; sorting is
// partial and grows only as far as top-p needs, so a 262k vocabulary costs little per token.
// Must never read logits outside the given span.
#include "text/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace duet::text {
namespace {
constexpr size_t kSortLimit = 4096;
}  // namespace

Sampler::Sampler(SamplerConfig config, size_t vocab_size)
    : config_(config),
      vocab_size_(vocab_size),
      rng_(config.seed),
      cands_(vocab_size),
      counts_(vocab_size, 0) {
  if (vocab_size == 0) fail("sampler needs a vocabulary size above zero");
  if (config.penalty_last_n < 0)
    fail("sampler penalty_last_n must be >= 0, got {}", config.penalty_last_n);
  if (!(config.repeat_penalty > 0.0f))
    fail("sampler repeat_penalty must be > 0, got {}", config.repeat_penalty);
  if (config.top_p <= 0.0f) fail("sampler top_p must be > 0, got {}", config.top_p);
  window_.assign(static_cast<size_t>(config.penalty_last_n), kNoToken);
}

void Sampler::reseed(uint32_t seed) {
  config_.seed = seed;
  rng_.seed(seed);
}

void Sampler::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  window_head_ = 0;
  window_size_ = 0;
  rng_.seed(config_.seed);
}

void Sampler::accept(Token token) {
  if (window_.empty() || token < 0 || static_cast<size_t>(token) >= vocab_size_) return;
  if (window_size_ == window_.size()) {
    const Token old = window_[window_head_];
    --counts_[static_cast<size_t>(old)];
  } else {
    ++window_size_;
  }
  window_[window_head_] = token;
  ++counts_[static_cast<size_t>(token)];
  window_head_ = (window_head_ + 1) % window_.size();
}

void Sampler::apply_penalties() {
  const bool any = config_.repeat_penalty != 1.0f || config_.frequency_penalty != 0.0f ||
                   config_.presence_penalty != 0.0f;
  if (!any || window_size_ == 0) return;
  // Each distinct token once: its count drops to "seen" via the sign of a temporary mark.
  for (size_t i = 0; i < window_size_; ++i) {
    const Token t = window_[i];
    Candidate& c = cands_[static_cast<size_t>(t)];  // cands_ is still in token order here
    const uint32_t n = counts_[static_cast<size_t>(t)];
    if (n == 0 || c.p < 0.0f) continue;
    c.p = -1.0f;  // mark as done for this call
    if (config_.repeat_penalty != 1.0f) {
      c.logit =
          c.logit > 0.0f ? c.logit / config_.repeat_penalty : c.logit * config_.repeat_penalty;
    }
    c.logit -= static_cast<float>(n) * config_.frequency_penalty + config_.presence_penalty;
  }
}

size_t Sampler::sort_top(size_t m) {
  m = std::min(m, n_cands_);
  if (m <= n_sorted_) return m;
  const auto better = [](const Candidate& a, const Candidate& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.token < b.token;
  };
  auto first = cands_.begin() + static_cast<std::ptrdiff_t>(n_sorted_);
  auto mid = cands_.begin() + static_cast<std::ptrdiff_t>(m);
  auto last = cands_.begin() + static_cast<std::ptrdiff_t>(n_cands_);
  std::partial_sort(first, mid, last, better);
  n_sorted_ = m;
  return m;
}

void Sampler::softmax(size_t n, float max, float temperature) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    cands_[i].p = std::exp((cands_[i].logit - max) / temperature);
    sum += cands_[i].p;
  }
  for (size_t i = 0; i < n; ++i) cands_[i].p /= sum;
}

Token Sampler::sample(std::span<const float> logits) {
  if (logits.size() != vocab_size_)
    fail("sampler got {} logits for a vocabulary of {}", logits.size(), vocab_size_);
  for (size_t i = 0; i < vocab_size_; ++i) cands_[i] = {static_cast<Token>(i), logits[i], 0.0f};
  n_cands_ = vocab_size_;
  n_sorted_ = 0;
  apply_penalties();

  if (config_.temperature <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < n_cands_; ++i) {
      if (cands_[i].logit > cands_[best].logit) best = i;
    }
    const Candidate winner{cands_[best].token, cands_[best].logit, 1.0f};
    cands_[0] = winner;
    n_cands_ = 1;
    return winner.token;
  }

  // top-k
  if (config_.top_k > 0 && static_cast<size_t>(config_.top_k) < n_cands_) {
    sort_top(static_cast<size_t>(config_.top_k));
    n_cands_ = static_cast<size_t>(config_.top_k);
  } else {
    sort_top(1);
  }
  const float max = cands_[0].logit;  // sort_top keeps the best candidate first
  // top-p: the smallest most-likely prefix whose probability mass (temperature 1) reaches top_p.
  if (config_.top_p < 1.0f) {
    float total = 0.0f;
    for (size_t i = 0; i < n_cands_; ++i) total += std::exp(cands_[i].logit - max);
    const float target = config_.top_p * total;
    float mass = 0.0f;
    size_t i = 0;
    size_t chunk = 64;
    while (i < n_cands_) {
      const size_t upto = sort_top(i + chunk);
      for (; i < upto; ++i) {
        mass += std::exp(cands_[i].logit - max);
        if (mass >= target) break;
      }
      if (i < upto) {
        n_cands_ = i + 1;
        break;
      }
      chunk *= 4;
    }
  }
  // min-p: keep tokens with p >= min_p * p_max, i.e. logit >= max + log(min_p).
  if (config_.min_p > 0.0f) {
    const float floor_logit = max + std::log(std::min(config_.min_p, 1.0f));
    size_t kept = 0;
    for (size_t i = 0; i < n_cands_; ++i) {
      if (cands_[i].logit >= floor_logit) {
        if (i != kept) std::swap(cands_[kept], cands_[i]);
        ++kept;
      }
    }
    if (kept < n_cands_) n_sorted_ = std::min(n_sorted_, kept);  // order may be broken past here
    // The best candidate always survives (its logit is max), and stays first: swaps only move
    // survivors towards the front in their original order.
    n_cands_ = kept;
  }
  // Sort what is left when it is small enough to matter for diagnostics; sampling needs no order.
  if (n_cands_ <= kSortLimit) sort_top(n_cands_);
  softmax(n_cands_, max, config_.temperature);

  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  const float r = uniform(rng_);
  float acc = 0.0f;
  for (size_t i = 0; i < n_cands_; ++i) {
    acc += cands_[i].p;
    if (r < acc) return cands_[i].token;
  }
  return cands_[n_cands_ - 1].token;
}

}  // namespace duet::text
