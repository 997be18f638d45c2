// Turn-taking heuristics over transcripts. Must never depend on anything but its arguments.
#include "dialog/turn_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <vector>

namespace duet::dialog {
namespace {

std::string lower_words_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '\'' || c == '-') {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else {
      out.push_back(' ');
    }
  }
  return out;
}

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : lower_words_only(s)) {
    if (c == ' ') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

// Words after which a speaker goes on, whatever Whisper's punctuation says ("How long does it
// take to?" is its guess at a pause).
constexpr std::array kTrailing = {
    "and", "but", "or", "because", "um", "uh", "erm", "er", "hmm", "the", "a", "an", "to", "of",
    "with", "for", "if", "my", "your", "which", "while", "when", "from", "by", "into", "than",
    "their", "our"};

// Words after which a speaker often goes on, but which also end many finished sentences ("How
// are you?", "Thank you.", "I think so.", "as well.", "I like that.", "Come in."): trailing
// unless the transcript ends in a question mark (a real question) or a full stop (a likely end,
// waited for a little longer than a plain statement).
constexpr std::array kSoftTrailing = {
    "so", "like", "well", "that", "you", "we", "i", "is", "are", "was", "then", "also", "just",
    "as", "in", "on", "at", "about"};

// Verbs that are rarely the last word of a finished sentence: they need an object.
constexpr std::array kNeedsObject = {
    "make", "bake", "buy", "bring", "put", "give", "send", "take", "get", "find", "tell", "show",
    "order", "book", "build", "use", "need", "want", "pick", "visit", "try"};

constexpr std::array kBackchannels = {
    "mm-hm", "mhm", "mm", "hmm", "uh-huh", "yeah", "yes", "yep", "ok", "okay", "right", "sure",
    "i see", "got it", "uh huh", "mm hmm", "oh", "ah", "cool", "nice", "yeah yeah", "alright"};

// Words that ask Duet to stop or to yield, however short the utterance.
constexpr std::array kStopWords = {
    "stop", "wait", "hold", "pause", "no", "sorry", "excuse", "what", "pardon", "quiet", "enough",
    "shh", "hey", "but", "actually"};

// Greetings that open a turn: "Hello Duet." alone is usually followed by what the person wants.
constexpr std::array kGreetings = {"hello", "hi", "hey", "hiya", "morning", "evening", "afternoon"};

// What a transcript ending in a question mark scores: the surest sign of a finished turn.
constexpr double kQuestionProbability = 0.95;

// End-of-utterance pitch: a slope of 3 semitones per second over the last 0.3 s is a clear
// movement (a declination is about 1); an end 1 semitone over the low point is a rise.
constexpr float kRisingSlope = 3.0f;
constexpr float kFallingSlope = 3.0f;
constexpr float kRisingEnd = 1.0f;

bool contains(const auto& list, std::string_view w) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

}  // namespace

std::string spoken_text(std::string_view transcript) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < transcript.size(); ++i) {
    const char c = transcript[i];
    if (c == '(' || c == '[' || c == '*') {
      if (c == '*' && depth > 0) {
        --depth;
        continue;
      }
      ++depth;
      continue;
    }
    if ((c == ')' || c == ']') && depth > 0) {
      --depth;
      continue;
    }
    // The musical note sign (U+266A, U+266B) Whisper writes for music.
    if (static_cast<unsigned char>(c) == 0xE2 && i + 2 < transcript.size() &&
        static_cast<unsigned char>(transcript[i + 1]) == 0x99 &&
        (static_cast<unsigned char>(transcript[i + 2]) == 0xAA ||
         static_cast<unsigned char>(transcript[i + 2]) == 0xAB)) {
      i += 2;
      continue;
    }
    if (depth == 0) out.push_back(c);
  }
  // Collapse blanks and trim.
  std::string trimmed;
  bool space = false;
  for (char c : out) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !trimmed.empty();
      continue;
    }
    if (space) trimmed.push_back(' ');
    space = false;
    trimmed.push_back(c);
  }
  // Nothing but punctuation is nothing said.
  const bool any_word = std::any_of(trimmed.begin(), trimmed.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) & 0x80);
  });
  return any_word ? trimmed : std::string();
}

double end_of_turn_probability(std::string_view transcript) {
  const std::string text = spoken_text(transcript);
  if (text.empty()) return 0.0;
  const auto words = words_of(text);
  if (words.empty()) return 0.0;
  // Last non-blank character.
  char last = ' ';
  for (auto it = text.rbegin(); it != text.rend(); ++it) {
    if (!std::isspace(static_cast<unsigned char>(*it))) {
      last = *it;
      break;
    }
  }
  const bool ellipsis = text.size() >= 3 && text.substr(text.size() - 3) == "...";
  // The last word before the mark: Whisper writes "How long does it take to?" at a hesitation,
  // so a question mark after "to" or "for" is no end.
  const bool finished_mark = !ellipsis && (last == '?' || last == '.' || last == '!');
  const bool soft = contains(kSoftTrailing, words.back());
  const bool trailing_word = contains(kTrailing, words.back()) || (soft && !finished_mark);
  if (ellipsis || trailing_word || last == ',' || last == '-') return 0.15;
  if (last == '?') return kQuestionProbability;
  if (soft) return 0.7;
  // "I would like to make." lacks what is made: Whisper's full stop after such a verb is more
  // often a pause mid-sentence than an end.
  if (contains(kNeedsObject, words.back())) return 0.4;
  // A greeting and at most a name ("Hello Duet.", "Good morning!"): the request usually follows
  // after a sentence's pause, so it is waited for like an unfinished sentence.
  const bool good_time = words.size() >= 2 && words[0] == "good" && contains(kGreetings, words[1]);
  if (words.size() <= 3 && (good_time || contains(kGreetings, words[0]))) {
    return 0.4;
  }
  if (last == '.' || last == '!') return words.size() >= 2 ? 0.85 : 0.7;
  return 0.5;  // no punctuation: unsure
}

bool ends_unmarked(std::string_view transcript) {
  const std::string text = spoken_text(transcript);
  return !text.empty() && std::isalnum(static_cast<unsigned char>(text.back()));
}

TurnWaits turn_waits(const TurnDetection& turn) {
  TurnWaits w;
  if (turn.type == TurnDetection::Type::ServerVad) {
    const int s = std::max(0, turn.silence_duration_ms);
    w.first_look_ms = std::min(s, 40);
    w.question_ms = s;
    w.short_ms = s;
    w.long_ms = s;
    return w;
  }
  // semantic_vad: eagerness sets how quickly a finished-looking turn is taken, and how long an
  // unfinished one is waited for (the published maximum waits are 8 s, 4 s and 2 s). A finished
  // question is the clearest end of a turn, so it is taken sooner than a finished statement (a
  // statement's full stop is sometimes Whisper's guess at a pause mid-sentence).
  if (turn.eagerness == "high") {
    w = {32, 120, 200, 1200};
  } else if (turn.eagerness == "low") {
    w = {120, 400, 600, 3000};
  } else {  // "medium" and "auto"
    w = {32, 200, 300, 1800};
  }
  return w;
}

EndPitch end_pitch(float slope_st_per_s, float final_rise_st) {
  if (!std::isfinite(slope_st_per_s) || !std::isfinite(final_rise_st)) return EndPitch::Unknown;
  // A continuation rise climbs over the last syllables and ends above the low point before it.
  if (slope_st_per_s >= kRisingSlope && final_rise_st >= kRisingEnd) return EndPitch::Rising;
  // A final fall: the contour is going down at the end and its last frames do not climb back.
  if (slope_st_per_s <= -kFallingSlope && final_rise_st < kRisingEnd) return EndPitch::Falling;
  return EndPitch::Unknown;
}

const char* end_pitch_name(EndPitch pitch) {
  switch (pitch) {
    case EndPitch::Falling: return "falling";
    case EndPitch::Rising: return "rising";
    case EndPitch::Unknown: break;
  }
  return "unknown";
}

int silence_to_end_turn(const TurnDetection& turn, double p, bool after_barge_in, EndPitch pitch) {
  const TurnWaits w = turn_waits(turn);
  const bool semantic = turn.type != TurnDetection::Type::ServerVad;
  int wait = w.long_ms;
  if (p >= kQuestionProbability) {
    wait = w.question_ms;
  } else if (p >= 0.8) {
    wait = w.short_ms;
    if (semantic && pitch == EndPitch::Falling) wait = w.question_ms;
    // A rise, as at a comma, says more is coming: the pause after "at seven," with espeak's 350
    // ms comma, counted from where the voice's energy fell, is about 400 ms.
    if (semantic && pitch == EndPitch::Rising) wait = w.short_ms * 3 / 2;
  } else if (p > 0.2) {  // in between: interpolate on the probability
    const double t = (0.8 - p) / 0.6;
    wait = static_cast<int>(w.short_ms + t * (w.long_ms - w.short_ms) * 0.5);
  }
  if (after_barge_in && semantic) {
    wait = std::max(wait, 2 * w.short_ms);
  }
  return wait;
}

bool is_backchannel(std::string_view transcript) {
  const auto words = words_of(spoken_text(transcript));
  if (words.empty() || words.size() > 3) return false;
  std::string joined;
  for (const auto& w : words) {
    if (!joined.empty()) joined.push_back(' ');
    joined += w;
  }
  if (contains(kBackchannels, joined)) return true;
  return std::all_of(words.begin(), words.end(), [](const std::string& w) {
    return contains(kBackchannels, w);
  });
}

bool leaves_duet_the_turn(std::string_view transcript, int speech_ms, int barge_in_ms) {
  const std::string spoken = spoken_text(transcript);
  if (is_backchannel(spoken)) return true;
  if (speech_ms >= barge_in_ms || spoken.find('?') != std::string::npos) return false;
  const auto words = words_of(spoken);
  return std::none_of(words.begin(), words.end(),
                      [](const std::string& w) { return contains(kStopWords, w); });
}

}  // namespace duet::dialog
