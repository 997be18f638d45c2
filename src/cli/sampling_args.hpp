// The command-line options that shape how an LLM samples its answer (shared by `duet llm` and
// `duet converse`), so both commands name them the same way; each command keeps its own defaults
// by filling SamplingArgs before registering. Must never load a model or decide a default itself.
#pragma once

#include <cstdint>

#include <CLI/CLI.hpp>

namespace duet::cli {

struct SamplingArgs {
  int max_tokens = 128;
  float temperature = 0.8f;
  float top_p = 0.95f;
  uint64_t seed = 0x5EED;
  // Only for the local generator of `duet llm` (the conversation engine does not take them).
  int top_k = 40;
  float min_p = 0.05f;
  float repeat_penalty = 1.1f;
};

// Answer length, temperature, top-p and seed: what every command that samples an answer takes.
inline void add_sampling_options(CLI::App* cmd, SamplingArgs& s) {
  cmd->add_option("-n,--n-predict,--max-tokens", s.max_tokens, "Maximum tokens to generate")
      ->capture_default_str();
  cmd->add_option("--temp,--temperature", s.temperature, "Sampling temperature (0 = greedy)")
      ->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "Top-p (1 = off)")->capture_default_str();
  cmd->add_option("--seed", s.seed, "Random seed")->capture_default_str();
}

// The local generator's further filters: top-k, min-p and the repetition penalty.
inline void add_sampler_filter_options(CLI::App* cmd, SamplingArgs& s) {
  cmd->add_option("--top-k", s.top_k, "Top-k (0 = off)")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "Min-p (0 = off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1 = off)")
      ->capture_default_str();
}

}  // namespace duet::cli
