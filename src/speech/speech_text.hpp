// Clean-up of user text before any voice sees it, shared by all voices: invalid UTF-8 and NUL
// bytes are replaced, and text with nothing to say is recognised. Must never drop valid
// characters or reorder the text.
#pragma once

#include <string>
#include <string_view>

namespace duet {

// `text` with every byte that is not part of a well-formed UTF-8 sequence (overlong forms and
// surrogates count as malformed), and every NUL, replaced by a space.
std::string replace_invalid_utf8(std::string_view text);

// True when `text` (valid UTF-8) holds only whitespace: ASCII spaces and controls, no-break and
// other Unicode spaces, zero-width spaces and the byte-order mark.
bool is_blank_text(std::string_view text);

}  // namespace duet
