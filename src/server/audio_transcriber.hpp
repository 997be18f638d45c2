// Transcribes one piece of audio with the engine's shared Whisper model, off the I/O threads:
// the audio of a conversation.item.create (input_audio content) becomes the item's transcript.
// Must never load the model again (the Engine's is borrowed) and never run on an I/O thread.
#pragma once

#include <span>
#include <string>

#include "core/cancel.hpp"
#include "dialog/engine.hpp"

namespace duet::server {

// The text Whisper hears in `pcm16k` (mono, 16 kHz), segments joined with single spaces and
// trimmed; "" for silence. Throws duet::Error when no Whisper model is loaded.
std::string transcribe_audio(const dialog::Engine& engine, std::span<const float> pcm16k,
                             const CancelToken& cancel);

}  // namespace duet::server
