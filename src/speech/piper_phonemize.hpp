// Text to Piper phoneme ids: espeak-ng (libespeak-ng, IPA) phonemizes clause by clause, the clause
// punctuation Piper trains with is put back, and each phoneme codepoint is mapped through the
// voice's phoneme-id map into "^ _ p1 _ p2 _ ... pn _ $" per sentence, as piper-tts does.
// Must never normalize text (text/normalize does that first) and never call libespeak-ng without
// the lock from lock_espeak_engine().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duet {

// Piper's map from one phoneme codepoint to its ids.
using PhonemeIdMap = std::unordered_map<char32_t, std::vector<int64_t>>;

struct PhonemizedSentence {
  std::u32string phonemes;     // NFD codepoints, clause punctuation included
  std::vector<int64_t> ids;    // "^ _ p1 _ ... pn _ $"
  // For each word of the sentence (as espeak separated them by spaces or clauses), the index in
  // `ids` of its first phoneme id; used for word timings.
  std::vector<int32_t> word_starts;
};

// Phonemizes `text` (valid UTF-8) with espeak voice `espeak_voice` (e.g. "en-us") into one
// entry per sentence (a sentence ends at '.', '?' or '!'). Sentences with no phonemes are
// dropped. Throws duet::Error for an unknown espeak voice.
std::vector<std::u32string> espeak_phonemize(std::string_view text, const std::string& espeak_voice);

// Piper's id sequence for one sentence's phonemes: BOS '^', then each known phoneme's ids
// followed by the pad '_', then EOS '$'. Unknown phonemes are skipped. Throws duet::Error when
// the map lacks '^', '_' or '$'.
PhonemizedSentence phonemes_to_ids(const std::u32string& phonemes, const PhonemeIdMap& map);

// Canonical decomposition (NFD) of the Latin letters with diacritics espeak may print; other
// codepoints pass through unchanged.
void append_nfd(char32_t cp, std::u32string& out);

}  // namespace duet
