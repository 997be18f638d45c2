// normalize_for_speech(): a cleanup pass (bytes, controls, emoji, typographic marks), a markdown
// pass line by line, then a token pass that rewrites each whitespace-separated token (URL,
// e-mail, abbreviation, currency, percentage, time, date, ordinal, number, symbol) into words.
// Must never leave a digit in the output and never drop the words of ordinary text.
#include "text/normalize.hpp"

#include <array>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "text/unicode.hpp"

namespace duet::text {
namespace {

constexpr std::array<std::string_view, 20> kOnes = {
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",
    "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> kTens = {"",      "",      "twenty",  "thirty", "forty",
                                                    "fifty", "sixty", "seventy", "eighty", "ninety"};
constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
// Digits of s as a number; s holds at most 18 digits (callers check).
int64_t to_int(std::string_view s) {
  int64_t v = 0;
  for (const char c : s) v = v * 10 + (c - '0');
  return v;
}

void append_word(std::string& out, std::string_view w) {
  if (w.empty()) return;
  if (!out.empty() && out.back() != ' ') out.push_back(' ');
  out.append(w);
}

std::string below_thousand(int64_t n) {
  std::string out;
  if (n >= 100) {
    append_word(out, kOnes[static_cast<size_t>(n / 100)]);
    append_word(out, "hundred");
    n %= 100;
  }
  if (n >= 20) {
    append_word(out, kTens[static_cast<size_t>(n / 10)]);
    if (n % 10 != 0) append_word(out, kOnes[static_cast<size_t>(n % 10)]);
  } else if (n > 0 || out.empty()) {
    append_word(out, kOnes[static_cast<size_t>(n)]);
  }
  return out;
}

std::string digits_one_by_one(std::string_view digits) {
  std::string out;
  for (const char c : digits) {
    if (is_digit(c)) append_word(out, kOnes[static_cast<size_t>(c - '0')]);
  }
  return out;
}

std::string year_to_words(int64_t y) {
  if (y % 1000 < 10 && y % 1000 != 0 && y >= 2000) return number_to_words(y);  // two thousand five
  if (y % 100 == 0) {
    if (y % 1000 == 0) return number_to_words(y);
    return below_thousand(y / 100) + " hundred";
  }
  const int64_t hi = y / 100;
  const int64_t lo = y % 100;
  return below_thousand(hi) + (lo < 10 ? " oh " : " ") + below_thousand(lo);
}

// A digit string with optional ',' groups and an optional decimal part, spoken.
std::string spoken_number(std::string_view s) {
  std::string digits;
  std::string_view frac;
  const size_t dot = s.find('.');
  std::string_view whole = dot == std::string_view::npos ? s : s.substr(0, dot);
  if (dot != std::string_view::npos) frac = s.substr(dot + 1);
  for (const char c : whole) {
    if (is_digit(c)) digits.push_back(c);
  }
  std::string out;
  if (digits.size() > 15) {
    out = digits_one_by_one(digits);
  } else if (!digits.empty()) {
    const int64_t v = to_int(digits);
    const bool year_like = dot == std::string_view::npos && whole.size() == 4 &&
                           whole.find(',') == std::string_view::npos && v >= 1100 && v <= 2099 &&
                           !(v >= 2000 && v <= 2009);
    out = year_like ? year_to_words(v) : number_to_words(v);
  }
  if (!frac.empty()) {
    if (out.empty()) out = "zero";
    append_word(out, "point");
    append_word(out, digits_one_by_one(frac));
  }
  return out;
}

bool is_number_token(std::string_view s) {
  if (s.empty() || !is_digit(s.front()) || !is_digit(s.back())) return false;
  int dots = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_digit(c)) continue;
    if (c == ',' && dots == 0 && i + 3 < s.size() + 1 && all_digits(s.substr(i + 1, 3)) &&
        (i + 4 == s.size() || s[i + 4] == ',' || s[i + 4] == '.')) {
      continue;
    }
    if (c == '.' && ++dots == 1) continue;
    return false;
  }
  return true;
}

std::string spoken_domain(std::string_view host) {
  std::string out;
  std::string part;
  const auto flush = [&] {
    if (!part.empty()) append_word(out, part);
    part.clear();
  };
  for (const char c : host) {
    if (c == '.') {
      flush();
      append_word(out, "dot");
    } else if (c == '-') {
      flush();
      append_word(out, "dash");
    } else if (is_digit(c)) {
      flush();
      append_word(out, kOnes[static_cast<size_t>(c - '0')]);
    } else if (is_alpha(c)) {
      part.push_back(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

struct Abbreviation {
  std::string_view written;
  std::string_view spoken;
};
constexpr std::array<Abbreviation, 24> kAbbreviations = {{
    {"Dr.", "Doctor"},       {"Mr.", "Mister"},         {"Mrs.", "Missus"},
    {"Ms.", "Miz"},          {"Prof.", "Professor"},    {"St.", "Saint"},
    {"Jr.", "Junior"},       {"Sr.", "Senior"},         {"vs.", "versus"},
    {"e.g.", "for example"}, {"i.e.", "that is"},       {"etc.", "et cetera"},
    {"approx.", "approximately"}, {"Inc.", "Incorporated"}, {"Ltd.", "Limited"},
    {"Co.", "Company"},      {"Mt.", "Mount"},          {"Ave.", "Avenue"},
    {"Jan.", "January"},     {"Feb.", "February"},      {"Aug.", "August"},
    {"Sept.", "September"},  {"Oct.", "October"},       {"Dec.", "December"},
}};

bool is_emoji(uint32_t cp) {
  return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
         (cp >= 0x2B00 && cp <= 0x2BFF) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x200D ||
         (cp >= 0xE0000 && cp <= 0xE007F) || (cp >= 0x2190 && cp <= 0x21FF) ||
         (cp >= 0x2300 && cp <= 0x23FF) || (cp >= 0x25A0 && cp <= 0x25FF) || cp == 0x20E3;
}

// Pass 1: valid UTF-8, no controls (newlines kept), no emoji, ASCII quotes/dashes/ellipses.
std::string clean(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) {
    const size_t start = offset;
    uint32_t cp = utf8_decode_one(text, offset);
    if (cp == kReplacementChar && !(text.substr(start, offset - start) == "\xEF\xBF\xBD")) cp = ' ';
    if (cp == '\n') {
      out.push_back('\n');
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == kReplacementChar) {
      out.push_back(' ');
    } else if (is_emoji(cp)) {
      out.push_back(' ');
    } else if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC) {
      out.push_back('\'');
    } else if (cp == 0x201C || cp == 0x201D || cp == 0xAB || cp == 0xBB) {
      out.push_back('"');
    } else if (cp == 0x2013 || cp == 0x2014 || cp == 0x2015) {
      out.append(", ");
    } else if (cp == 0x2026) {
      out.append("...");
    } else if (cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0xFEFF ||
               cp == 0x3000) {
      out.push_back(' ');
    } else {
      utf8_append(out, cp);
    }
  }
  return out;
}

bool ends_sentence_like(std::string_view line) {
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  if (line.empty()) return true;
  const char c = line.back();
  return c == '.' || c == '!' || c == '?' || c == ',' || c == ':' || c == ';';
}

// Inline markdown: links and images keep their text, emphasis/code marks go.
std::string strip_inline_markdown(std::string_view line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if ((c == '[' || (c == '!' && i + 1 < line.size() && line[i + 1] == '['))) {
      const size_t open = c == '[' ? i : i + 1;
      const size_t close = line.find(']', open);
      if (close != std::string_view::npos && close + 1 < line.size() && line[close + 1] == '(') {
        const size_t paren = line.find(')', close);
        if (paren != std::string_view::npos) {
          out.append(line.substr(open + 1, close - open - 1));
          i = paren;
          continue;
        }
      }
    }
    if (c == '*' || c == '`' || c == '~' || c == '|') {
      if (c == '*' && i > 0 && i + 1 < line.size() && line[i - 1] == ' ' && line[i + 1] == ' ') {
        out.append("times");  // "3 * 4"
      }
      continue;
    }
    if (c == '_' && (i == 0 || i + 1 == line.size() || line[i - 1] == ' ' || line[i + 1] == ' ' ||
                     line[i - 1] == '_' || line[i + 1] == '_')) {
      continue;
    }
    out.push_back(c == '_' ? ' ' : c);
  }
  return out;
}

// Pass 2: block markdown. Headings, bullets, quotes and table rows lose their markers; lines
// become sentences; fenced code is skipped.
std::string strip_markdown(const std::string& text) {
  std::string out;
  bool in_fence = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    size_t i = 0;
    while (i < line.size() && line[i] == ' ') ++i;
    line.remove_prefix(i);
    if (line.starts_with("```") || line.starts_with("~~~")) {
      in_fence = !in_fence;
      continue;
    }
    if (in_fence) continue;
    while (!line.empty() && (line.front() == '#' || line.front() == '>')) line.remove_prefix(1);
    if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') {
      line.remove_prefix(2);
    } else {
      size_t d = 0;
      while (d < line.size() && is_digit(line[d])) ++d;
      if (d > 0 && d + 1 < line.size() && (line[d] == '.' || line[d] == ')') && line[d + 1] == ' ') {
        line.remove_prefix(d + 2);
      }
    }
    bool rule = !line.empty();
    for (const char c : line) rule = rule && (c == '-' || c == '=' || c == '*' || c == '_' || c == ' ' || c == '|' || c == ':');
    if (rule) continue;
    std::string stripped = strip_inline_markdown(line);
    if (stripped.find_first_not_of(' ') == std::string::npos) continue;
    if (!out.empty()) out.append(ends_sentence_like(out) ? " " : ". ");
    out.append(stripped);
  }
  return out;
}

std::string spoken_time(int64_t h, int64_t m, std::string_view ampm) {
  std::string out = number_to_words(h);
  if (m == 0) {
    if (ampm.empty()) append_word(out, "o'clock");
  } else if (m < 10) {
    append_word(out, "oh");
    append_word(out, number_to_words(m));
  } else {
    append_word(out, number_to_words(m));
  }
  if (!ampm.empty()) append_word(out, lower(ampm)[0] == 'a' ? "a m" : "p m");
  return out;
}

bool is_ampm(std::string_view s) {
  const std::string l = lower(s);
  return l == "am" || l == "pm" || l == "a.m." || l == "p.m." || l == "a.m" || l == "p.m";
}

// Rewrites one token core (no surrounding punctuation). Returns false when it is not special.
bool rewrite_core(std::string_view core, std::string_view next, bool& consumed_next,
                  std::string& out) {
  consumed_next = false;
  const std::string l = lower(core);
  // URLs and e-mail.
  if (l.starts_with("http://") || l.starts_with("https://") || l.starts_with("www.")) {
    std::string_view rest = core.substr(core.find("//") != std::string_view::npos ? core.find("//") + 2 : 0);
    if (rest.starts_with("www.")) rest.remove_prefix(4);
    const size_t slash = rest.find_first_of("/?#:");
    append_word(out, spoken_domain(rest.substr(0, slash)));
    return true;
  }
  const size_t at = core.find('@');
  if (at != std::string_view::npos && at > 0 && core.find('.', at) != std::string_view::npos) {
    append_word(out, spoken_domain(core.substr(0, at)));
    append_word(out, "at");
    append_word(out, spoken_domain(core.substr(at + 1)));
    return true;
  }
  // Currency.
  struct Currency {
    std::string_view sign, unit, units, cent, cents;
  };
  static constexpr std::array<Currency, 4> kCurrencies = {{
      {"$", "dollar", "dollars", "cent", "cents"},
      {"\xE2\x82\xAC", "euro", "euros", "cent", "cents"},
      {"\xC2\xA3", "pound", "pounds", "penny", "pence"},
      {"\xC2\xA5", "yen", "yen", "", ""},
  }};
  for (const auto& cur : kCurrencies) {
    if (!core.starts_with(cur.sign)) continue;
    std::string_view amount = core.substr(cur.sign.size());
    std::string_view scale;
    const size_t end = amount.find_first_not_of("0123456789.,");
    if (end != std::string_view::npos) {
      scale = amount.substr(end);
      amount = amount.substr(0, end);
    }
    while (!amount.empty() && (amount.back() == '.' || amount.back() == ',')) amount.remove_suffix(1);
    if (!is_number_token(amount)) return false;
    const std::string sl = lower(scale);
    std::string_view scale_word = sl == "k" ? "thousand" : sl == "m" ? "million" : (sl == "b" || sl == "bn") ? "billion" : "";
    if (!scale.empty() && scale_word.empty()) return false;
    const std::string nl = lower(next);
    if (scale_word.empty() && (nl == "million" || nl == "billion" || nl == "thousand" || nl == "trillion")) {
      append_word(out, spoken_number(amount));
      append_word(out, nl);
      append_word(out, cur.units);
      consumed_next = true;
      return true;
    }
    const size_t dot = amount.find('.');
    if (!scale_word.empty() || dot == std::string_view::npos || amount.size() - dot - 1 != 2 || cur.cents.empty()) {
      append_word(out, spoken_number(amount));
      append_word(out, scale_word);
      const bool one = scale_word.empty() && amount == "1";
      append_word(out, one ? cur.unit : cur.units);
      return true;
    }
    std::string whole(amount.substr(0, dot));
    const int64_t cents = to_int(amount.substr(dot + 1));
    const std::string whole_words = spoken_number(whole);
    if (whole != "0" && !whole.empty()) {
      append_word(out, whole_words);
      append_word(out, whole == "1" ? cur.unit : cur.units);
      if (cents != 0) append_word(out, "and");
    }
    if (cents != 0 || whole == "0" || whole.empty()) {
      append_word(out, number_to_words(cents));
      append_word(out, cents == 1 ? cur.cent : cur.cents);
    }
    return true;
  }
  // Percentages.
  if (core.size() > 1 && core.back() == '%' && is_number_token(core.substr(0, core.size() - 1))) {
    append_word(out, spoken_number(core.substr(0, core.size() - 1)));
    append_word(out, "percent");
    return true;
  }
  // Times: H:MM or H:MM:SS, optionally with am/pm attached or as the next token.
  const size_t colon = core.find(':');
  if (colon != std::string_view::npos && colon > 0 && colon <= 2 && all_digits(core.substr(0, colon))) {
    std::string_view rest = core.substr(colon + 1);
    std::string_view ampm;
    if (rest.size() > 2 && is_ampm(rest.substr(2))) {
      ampm = rest.substr(2);
      rest = rest.substr(0, 2);
    }
    if (rest.size() == 2 && all_digits(rest)) {
      const int64_t h = to_int(core.substr(0, colon));
      const int64_t m = to_int(rest);
      if (h <= 24 && m <= 59) {
        if (ampm.empty() && is_ampm(next)) {
          ampm = next;
          consumed_next = true;
        }
        append_word(out, spoken_time(h, m, ampm));
        return true;
      }
    }
  }
  // "5pm", "10am".
  if (core.size() > 2 && is_ampm(core.substr(core.size() - 2)) && all_digits(core.substr(0, core.size() - 2))) {
    const int64_t h = to_int(core.substr(0, core.size() - 2));
    if (h >= 1 && h <= 12) {
      append_word(out, spoken_time(h, 0, core.substr(core.size() - 2)));
      return true;
    }
  }
  // Dates: YYYY-MM-DD and M/D/YYYY.
  if (core.size() == 10 && core[4] == '-' && core[7] == '-' && all_digits(core.substr(0, 4)) &&
      all_digits(core.substr(5, 2)) && all_digits(core.substr(8, 2))) {
    const int64_t mo = to_int(core.substr(5, 2));
    const int64_t d = to_int(core.substr(8, 2));
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
      append_word(out, kMonths[static_cast<size_t>(mo - 1)]);
      append_word(out, ordinal_to_words(d));
      append_word(out, year_to_words(to_int(core.substr(0, 4))));
      return true;
    }
  }
  {
    const size_t s1 = core.find('/');
    const size_t s2 = s1 == std::string_view::npos ? s1 : core.find('/', s1 + 1);
    if (s2 != std::string_view::npos && all_digits(core.substr(0, s1)) &&
        all_digits(core.substr(s1 + 1, s2 - s1 - 1)) && all_digits(core.substr(s2 + 1)) &&
        s1 <= 2 && s2 - s1 - 1 <= 2 && (core.size() - s2 - 1 == 4 || core.size() - s2 - 1 == 2)) {
      const int64_t mo = to_int(core.substr(0, s1));
      const int64_t d = to_int(core.substr(s1 + 1, s2 - s1 - 1));
      int64_t y = to_int(core.substr(s2 + 1));
      if (core.size() - s2 - 1 == 2) y += 2000;
      if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
        append_word(out, kMonths[static_cast<size_t>(mo - 1)]);
        append_word(out, ordinal_to_words(d));
        append_word(out, year_to_words(y));
        return true;
      }
    }
  }
  // Ordinals.
  if (core.size() > 2) {
    const std::string suffix = lower(core.substr(core.size() - 2));
    const std::string_view digits = core.substr(0, core.size() - 2);
    if ((suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") && all_digits(digits) && digits.size() <= 15) {
      append_word(out, ordinal_to_words(to_int(digits)));
      return true;
    }
  }
  // Numbers (with sign).
  if (!core.empty() && (core.front() == '-' || core.front() == '+') && is_number_token(core.substr(1))) {
    append_word(out, core.front() == '-' ? "minus" : "plus");
    append_word(out, spoken_number(core.substr(1)));
    return true;
  }
  if (is_number_token(core)) {
    append_word(out, spoken_number(core));
    return true;
  }
  return false;
}

// Anything left with digits or symbols: digits runs become numbers, letters stay, symbols become
// words or go.
void rewrite_mixed(std::string_view core, std::string& out) {
  size_t i = 0;
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) append_word(out, word);
    word.clear();
  };
  while (i < core.size()) {
    const char c = core[i];
    if (is_digit(c)) {
      flush();
      size_t j = i;
      while (j < core.size() && (is_digit(core[j]) || (core[j] == '.' && j + 1 < core.size() && is_digit(core[j + 1])))) ++j;
      append_word(out, spoken_number(core.substr(i, j - i)));
      i = j;
      continue;
    }
    const unsigned char uc = static_cast<unsigned char>(c);
    if (uc >= 0x80 || is_alpha(c) || c == '\'') {
      word.push_back(c);
    } else if (c == '&') {
      flush();
      append_word(out, "and");
    } else if (c == '+') {
      flush();
      append_word(out, "plus");
    } else if (c == '=') {
      flush();
      append_word(out, "equals");
    } else if (c == '@') {
      flush();
      append_word(out, "at");
    } else if (c == '%') {
      flush();
      append_word(out, "percent");
    } else if (c == '-' && !word.empty() && i + 1 < core.size() && is_alpha(core[i + 1])) {
      word.push_back(c);  // hyphenated words stay whole
    } else if (c == '.' || c == ',' || c == '?' || c == '!' || c == ':' || c == ';') {
      word.push_back(c);  // punctuation inside a token (e.g. "a.b") stays for espeak
    } else {
      flush();  // other symbols are not read out
    }
    ++i;
  }
  flush();
}

bool is_lead_punct(char c) { return c == '"' || c == '\'' || c == '(' || c == '['; }
bool is_trail_punct(char c) {
  return c == '"' || c == '\'' || c == ')' || c == ']' || c == '.' || c == ',' || c == '?' ||
         c == '!' || c == ':' || c == ';';
}

}  // namespace

bool is_abbreviation(std::string_view word) {
  for (const auto& ab : kAbbreviations) {
    if (word == ab.written) return true;
  }
  return word.size() == 2 && word[1] == '.' && is_alpha(word[0]);
}

std::string number_to_words(int64_t n) {
  if (n < 0) return "minus " + number_to_words(n == INT64_MIN ? INT64_MAX : -n);
  if (n < 1000) return below_thousand(n);
  static constexpr std::array<std::string_view, 6> kScales = {"", "thousand", "million", "billion",
                                                              "trillion", "quadrillion"};
  std::vector<int64_t> groups;
  while (n > 0) {
    groups.push_back(n % 1000);
    n /= 1000;
  }
  if (groups.size() > kScales.size()) return digits_one_by_one(std::to_string(n));
  std::string out;
  for (size_t g = groups.size(); g-- > 0;) {
    if (groups[g] == 0) continue;
    append_word(out, below_thousand(groups[g]));
    append_word(out, kScales[g]);
  }
  return out;
}

std::string ordinal_to_words(int64_t n) {
  std::string words = number_to_words(n);
  const size_t space = words.rfind(' ');
  const std::string last = words.substr(space == std::string::npos ? 0 : space + 1);
  const std::string head = words.substr(0, space == std::string::npos ? 0 : space + 1);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kIrregular = {{
      {"one", "first"}, {"two", "second"}, {"three", "third"}, {"five", "fifth"},
      {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}, {"zero", "zeroth"},
      {"four", "fourth"},
  }};
  for (const auto& [card, ord] : kIrregular) {
    if (last == card) return head + std::string(ord);
  }
  if (last.ends_with("y")) return head + last.substr(0, last.size() - 1) + "ieth";
  return head + last + "th";
}

std::string normalize_for_speech(std::string_view text) {
  const std::string cleaned = strip_markdown(clean(text));
  // Split into whitespace-separated tokens.
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < cleaned.size()) {
    while (pos < cleaned.size() && (cleaned[pos] == ' ' || cleaned[pos] == '\n')) ++pos;
    const size_t start = pos;
    while (pos < cleaned.size() && cleaned[pos] != ' ' && cleaned[pos] != '\n') ++pos;
    if (pos > start) tokens.emplace_back(cleaned.data() + start, pos - start);
  }
  std::string out;
  for (size_t t = 0; t < tokens.size(); ++t) {
    std::string_view tok = tokens[t];
    // Abbreviations (whole token, trailing period included).
    bool done = false;
    for (const auto& ab : kAbbreviations) {
      std::string_view bare = tok;
      std::string_view trail;
      while (!bare.empty() && (bare.back() == ',' || bare.back() == ';' || bare.back() == ':')) {
        trail = tok.substr(bare.size() - 1);
        bare.remove_suffix(1);
      }
      if (bare == ab.written) {
        append_word(out, ab.spoken);
        const bool last = t + 1 == tokens.size();
        out.append(trail);
        if (last && trail.empty()) out.push_back('.');
        done = true;
        break;
      }
    }
    if (done) continue;
    size_t a = 0;
    while (a < tok.size() && is_lead_punct(tok[a])) ++a;
    size_t b = tok.size();
    while (b > a && is_trail_punct(tok[b - 1])) --b;
    // A currency/percent/number token keeps its own '.', e.g. "3.5." -> core "3.5".
    std::string_view core = tok.substr(a, b - a);
    std::string_view lead = tok.substr(0, a);
    std::string_view trail = tok.substr(b);
    if (core.empty()) {
      // Only punctuation: keep it attached to the previous word.
      for (const char c : tok) {
        if (c == '.' || c == ',' || c == '?' || c == '!' || c == ':' || c == ';') out.push_back(c);
      }
      continue;
    }
    std::string_view next;
    if (t + 1 < tokens.size()) {
      next = tokens[t + 1];
      while (!next.empty() && is_trail_punct(next.back())) next.remove_suffix(1);
    }
    std::string piece;
    bool consumed_next = false;
    if (!rewrite_core(core, next, consumed_next, piece)) rewrite_mixed(core, piece);
    if (piece.empty()) {
      out.append(trail.find_first_of(".?!,;:") != std::string_view::npos ? std::string(1, trail[trail.find_first_of(".?!,;:")]) : "");
      continue;
    }
    (void)lead;
    append_word(out, piece);
    if (consumed_next) {
      std::string_view nt = tokens[t + 1];
      size_t k = nt.size();
      while (k > 0 && is_trail_punct(nt[k - 1])) --k;
      trail = nt.substr(k);
      ++t;
    }
    for (const char c : trail) {
      if (c == '.' || c == ',' || c == '?' || c == '!' || c == ':' || c == ';') out.push_back(c);
    }
  }
  // Tidy: no space before punctuation, single spaces.
  std::string tidy;
  for (const char c : out) {
    if ((c == '.' || c == ',' || c == '?' || c == '!' || c == ':' || c == ';') && !tidy.empty() && tidy.back() == ' ') tidy.pop_back();
    if (c == ' ' && (tidy.empty() || tidy.back() == ' ')) continue;
    tidy.push_back(c);
  }
  while (!tidy.empty() && tidy.back() == ' ') tidy.pop_back();
  return tidy;
}

}  // namespace duet::text
