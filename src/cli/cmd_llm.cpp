// `duet llm`: run a local LLM from a GGUF file: one prompt (as a user turn through the model's chat
// template, or --raw text completion), or an interactive --chat that keeps the conversation in the
// KV cache. Text streams to stdout; timing goes to stderr. Must never print partial UTF-8.
#include <cstdio>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/llm_resolve.hpp"
#include "cli/sampling_args.hpp"
#include "core/error.hpp"
#include "models/llm_generate.hpp"
#include "text/chat_template.hpp"

namespace duet::cli {
namespace {

struct LlmArgs {
  std::string model = "smollm2-135m-instruct";
  std::string prompt;
  std::string system;
  SamplingArgs sampling;  // the defaults of SamplingArgs are this command's
  int threads = 0;
  int64_t ctx = 2048;
  bool chat = false;
  bool raw = false;
  bool verbose = false;
};

models::GenerateOptions generate_options(const LlmArgs& a, const text::ChatTemplate* tmpl,
                                         const text::Tokenizer& tok) {
  models::GenerateOptions g;
  g.max_tokens = a.sampling.max_tokens;
  g.sampling.temperature = a.sampling.temperature;
  g.sampling.top_k = a.sampling.top_k;
  g.sampling.top_p = a.sampling.top_p;
  g.sampling.min_p = a.sampling.min_p;
  g.sampling.repeat_penalty = a.sampling.repeat_penalty;
  g.sampling.seed = static_cast<uint32_t>(a.sampling.seed);
  if (tmpl) g.stop_tokens = tmpl->stop_tokens(tok.vocab());
  return g;
}

void print_stats(const models::GenerateResult& r) {
  const double decode_tps = r.decode_ms > 0 ? r.tokens.size() * 1000.0 / r.decode_ms : 0.0;
  const int64_t computed = r.prompt_tokens - r.reused_tokens;
  const double prefill_tps = r.prefill_ms > 0 ? computed * 1000.0 / r.prefill_ms : 0.0;
  fmt::print(stderr, "\n[{} prompt tokens ({} reused) in {:.1f} ms = {:.1f} tok/s; {} generated in {:.1f} ms = {:.1f} tok/s; stop: {}]\n",
             r.prompt_tokens, r.reused_tokens, r.prefill_ms, prefill_tps, r.tokens.size(), r.decode_ms,
             decode_tps, models::stop_reason_name(r.reason));
}

void stream_to_stdout(std::string_view piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

void run_prompt(const LlmArgs& a) {
  auto model = models::LlmModel::load(resolve_model(a.model));
  models::LlmSession session(model, {.n_ctx = a.ctx, .n_threads = a.threads});
  const auto& tok = model->tokenizer();
  std::vector<int32_t> prompt;
  std::optional<text::ChatTemplate> tmpl;
  if (a.raw) {
    prompt = tok.encode(a.prompt, {.add_special = true, .parse_special = false});
  } else {
    tmpl = text::ChatTemplate::from_gguf(model->gguf(), tok);
    std::vector<text::ChatMessage> msgs;
    if (!a.system.empty()) msgs.push_back({"system", a.system});
    msgs.push_back({"user", a.prompt});
    prompt = tok.encode(tmpl->render(msgs), {.add_special = true, .parse_special = true});
  }
  auto r = models::generate(session, prompt, generate_options(a, tmpl ? &*tmpl : nullptr, tok), stream_to_stdout);
  std::fputc('\n', stdout);
  if (a.verbose) print_stats(r);
}

void run_chat(const LlmArgs& a) {
  auto model = models::LlmModel::load(resolve_model(a.model));
  models::LlmSession session(model, {.n_ctx = a.ctx, .n_threads = a.threads});
  const auto& tok = model->tokenizer();
  const auto tmpl = text::ChatTemplate::from_gguf(model->gguf(), tok);
  std::vector<text::ChatMessage> history;
  if (!a.system.empty()) history.push_back({"system", a.system});
  fmt::print(stderr, "Chatting with {} ({}). Type a message; /reset clears, /exit or Ctrl-D quits.\n",
             model->gguf().get_string("general.name", a.model), model->config().arch);
  std::string line;
  while (true) {
    fmt::print(stderr, "> ");
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line.empty()) continue;
    if (line == "/reset") {
      history.resize(a.system.empty() ? 0 : 1);
      session.truncate(0);
      continue;
    }
    history.push_back({"user", line});
    auto prompt = tok.encode(tmpl.render(history), {.add_special = true, .parse_special = true});
    if (static_cast<int64_t>(prompt.size()) + a.sampling.max_tokens > session.n_ctx()) {
      fmt::print(stderr, "(the conversation is longer than the context; keeping only the last message)\n");
      history.erase(history.begin() + (a.system.empty() ? 0 : 1), history.end() - 1);
      prompt = tok.encode(tmpl.render(history), {.add_special = true, .parse_special = true});
    }
    auto r = models::generate(session, prompt, generate_options(a, &tmpl, tok), stream_to_stdout);
    std::fputc('\n', stdout);
    if (a.verbose) print_stats(r);
    history.push_back({"assistant", r.text});
  }
}

}  // namespace

void add_llm_command(CLI::App& app) {
  auto args = std::make_shared<LlmArgs>();
  auto* cmd = app.add_subcommand("llm", "Run a local language model (GGUF) on Duet's runtime");
  cmd->add_option("-m,--model", args->model, "GGUF file, or a model name from `duet models list`")
      ->capture_default_str();
  cmd->add_option("-p,--prompt", args->prompt, "Prompt (a user turn through the chat template unless --raw)");
  cmd->add_option("--system", args->system, "System prompt");
  add_sampling_options(cmd, args->sampling);
  add_sampler_filter_options(cmd, args->sampling);
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("-c,--ctx", args->ctx, "Context length in tokens")->capture_default_str();
  cmd->add_flag("--chat", args->chat, "Interactive chat on stdin");
  cmd->add_flag("--raw", args->raw, "Plain text completion of the prompt, without the chat template");
  cmd->add_flag("-v,--verbose", args->verbose, "Print token counts and speeds to stderr");
  cmd->callback([args] {
    if (args->chat) {
      run_chat(*args);
    } else {
      if (args->prompt.empty()) fail("give a prompt with -p \"...\" or use --chat");
      run_prompt(*args);
    }
  });
}

}  // namespace duet::cli
