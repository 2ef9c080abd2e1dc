#include "stella/common/names.hpp"

#include "stella/common/error.hpp"

namespace stella {

namespace {
bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
}  // namespace

std::string segment_name_problem(std::string_view name) {
  if (name.empty()) return "a segment name must not be empty";
  if (name.size() > kMaxSegmentNameLength) {
    return "a segment name has at most " + std::to_string(kMaxSegmentNameLength) +
           " characters, this one has " + std::to_string(name.size());
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '/' || c == '\\') return "a segment name is not a path: '/' or '\\' at index " + std::to_string(i);
    if (!allowed(c)) {
      return "character " + std::to_string(static_cast<unsigned char>(c)) + " at index " + std::to_string(i) +
             " is outside [A-Za-z0-9._-]";
    }
  }
  if (name.find("..") != std::string_view::npos) return "a segment name must not contain \"..\"";
  if (name == ".") return "a segment name must not be \".\"";
  return {};
}

void validate_segment_name(std::string_view name) {
  if (auto problem = segment_name_problem(name); !problem.empty()) {
    throw Error(Errc::invalid_name, std::string(name), problem);
  }
}

}  // namespace stella
