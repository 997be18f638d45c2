// Token sampling from a logits row: repetition/frequency/presence penalties over the last N
// accepted tokens, then greedy argmax, or top-k -> top-p -> min-p -> temperature -> a draw from
// the sampler's own seeded std::mt19937. Must never allocate per token: all buffers are sized at
// construction and reused.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "text/vocab.hpp"

namespace duet::text {

struct SamplerConfig {
  float temperature = 0.8f;        // <= 0: greedy (argmax after penalties)
  int top_k = 40;                  // <= 0: off
  float top_p = 0.95f;             // >= 1: off
  float min_p = 0.05f;             // <= 0: off (relative to the most likely token)
  float repeat_penalty = 1.1f;     // 1: off; > 1 makes recent tokens less likely
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  float presence_penalty = 0.0f;   // subtracted once if present in the window
  int penalty_last_n = 64;         // window of accepted tokens the penalties look at; 0: off
  uint32_t seed = 0x5EED;
};

struct Candidate {
  Token token;
  float logit;
  float p;
};

class Sampler {
 public:
  Sampler(SamplerConfig config, size_t vocab_size);  // throws duet::Error on a bad config

  // Picks a token from logits (size must equal vocab_size). Does not record it: call accept().
  Token sample(std::span<const float> logits);
  // Records a token (generated or from the prompt) in the penalty window.
  void accept(Token token);
  // Clears the penalty window and restarts the random stream from the seed.
  void reset();
  void reseed(uint32_t seed);

  const SamplerConfig& config() const { return config_; }
  // The candidates the last sample() drew from, with their final probabilities (for tests and
  // diagnostics); most likely first when at most 4096 remain.
  std::span<const Candidate> last_candidates() const { return {cands_.data(), n_cands_}; }

 private:
  void apply_penalties();
  size_t sort_top(size_t m);  // ensures cands_[0, m) are the m best, sorted; returns m
  void softmax(size_t n, float max, float temperature);  // over cands_[0, n)

  SamplerConfig config_;
  size_t vocab_size_;
  std::mt19937 rng_;
  std::vector<Candidate> cands_;
  size_t n_cands_ = 0;
  size_t n_sorted_ = 0;
  std::vector<Token> window_;  // ring buffer of the last penalty_last_n accepted tokens
  size_t window_head_ = 0;
  size_t window_size_ = 0;
  std::vector<uint32_t> counts_;  // occurrences of each token in the window
};

}  // namespace duet::text
