// Silero VAD (v5 architecture) on Duet's runtime: the weights of both sample-rate branches loaded
// from the GGUF that tools/convert_silero.py writes, and the forward pass of one frame, as the
// ONNX graph computes it: context + frame -> right reflect pad -> STFT conv -> magnitude -> four
// conv+ReLU blocks -> one LSTM step -> ReLU -> 1x1 conv -> sigmoid.
// A SileroModel is immutable after load and shared by any number of streams; everything a stream
// changes (LSTM h and c, the audio context, scratch) lives in its SileroState. Must never keep
// per-stream data in the model or allocate in silero_forward().
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "runtime/conv1d.hpp"
#include "runtime/gguf.hpp"
#include "runtime/matmul.hpp"
#include "runtime/recurrent.hpp"

namespace duet::models {

// One sample rate's network (16 kHz or 8 kHz); views into the model's mapped file.
struct SileroBranch {
  int sample_rate = 0;
  int64_t window = 0;         // samples per frame (512 / 256)
  int64_t context = 0;        // samples of the previous frame put in front (64 / 32)
  int64_t filter_length = 0;  // STFT window (256 / 128)
  int64_t hop = 0;            // STFT hop (128 / 64)
  int64_t pad_right = 0;      // reflect padding after the input (64 / 32)
  int64_t n_bins = 0;         // filter_length / 2 + 1
  int64_t stft_frames = 0;    // STFT frames per call (4)
  int64_t hidden = 0;         // LSTM size (128)

  rt::WeightView stft;        // [2*n_bins, filter_length]: real rows, then imaginary rows
  rt::Conv1dParams stft_params;
  struct EncoderBlock {
    rt::WeightView w;         // [c_out, c_in*kernel] (PyTorch's [c_out, c_in, kernel])
    const float* b = nullptr;  // f32 [c_out]
    rt::Conv1dParams p;
  };
  std::array<EncoderBlock, 4> encoder;
  rt::LstmWeights lstm;       // input = the last encoder block's output channels
  const float* decoder_w = nullptr;  // f32 [hidden]
  float decoder_b = 0.0f;

  int64_t input_len() const { return context + window; }
};

class SileroModel {
 public:
  // Throws duet::Error naming the file and the problem (missing tensor, wrong shape or type).
  static std::shared_ptr<const SileroModel> load(const std::filesystem::path& path);

  bool supports(int sample_rate) const;
  // The branch for 16000 or 8000; throws duet::Error for any other rate.
  const SileroBranch& branch(int sample_rate) const;
  const rt::GgufFile& file() const { return file_; }

 private:
  explicit SileroModel(rt::GgufFile file);
  rt::GgufFile file_;
  std::vector<SileroBranch> branches_;
};

// Everything one stream changes: the recurrent state and the buffers the forward pass uses, all
// sized at construction for one branch.
class SileroState {
 public:
  SileroState(const SileroModel& model, int sample_rate);
  // Zeros h, c and the audio context (a new stream).
  void reset();
  int sample_rate() const { return branch_->sample_rate; }
  int64_t frame_samples() const { return branch_->window; }
  std::span<const float> h() const { return h_; }  // f32 [hidden]
  std::span<const float> c() const { return c_; }  // f32 [hidden]

 private:
  friend float silero_forward(const SileroModel& model, SileroState& state,
                              std::span<const float> frame);
  const SileroBranch* branch_;
  std::vector<float> h_, c_;     // f32 [hidden]: LSTM state
  std::vector<float> context_;   // f32 [context]: the last samples of the previous frame
  std::vector<float> padded_;    // f32 [context + window + pad_right]: the STFT's input
  std::vector<float> act_a_, act_b_;  // f32 [t, c]: ping-pong activations
  std::vector<float> cols_;      // im2col scratch for the largest conv
  std::vector<float> lstm_scratch_;
  std::vector<uint8_t> mm_scratch_;
};

// Speech probability of one frame (exactly state.frame_samples() samples at the state's rate,
// nominally in [-1, 1]; non-finite samples are read as 0 so they cannot poison the recurrent
// state). Advances the state. state must have been made for this model. Throws duet::Error for a
// wrong frame size.
float silero_forward(const SileroModel& model, SileroState& state, std::span<const float> frame);

}  // namespace duet::models
