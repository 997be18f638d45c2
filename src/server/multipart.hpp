// multipart/form-data bodies (RFC 7578), as the audio transcription upload sends them: each part's
// name, optional filename and content type, and its bytes.
// Must never read outside the body, and never accept a body whose structure it cannot follow:
// a missing boundary, an unterminated part or a part without a name is a duet::Error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::server {

struct FormPart {
  std::string name;
  std::string filename;      // "" for plain fields
  std::string content_type;  // "" when the part gave none
  std::string data;
};

// The boundary parameter of a multipart/form-data Content-Type; nullopt when it is not one.
std::optional<std::string> multipart_boundary(std::string_view content_type);

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary);

// The first part called `name`, or null.
const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name);

}  // namespace duet::server
