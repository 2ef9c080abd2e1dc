// NATS name rules: subjects (with the wildcards of subscriptions), JetStream stream and
// consumer names, server URLs.
#include "schema.hpp"

namespace stella::config::detail {

// Why `subject` is not a NATS subject ("" when it is one). Tokens are separated by '.',
// none empty; `*` matches one token and `>` the rest, and only a subscription (an
// in-bridge) may use them.
std::string subject_problem(std::string_view subject, bool wildcards_allowed) {
  if (subject.empty()) return "a subject must not be empty";
  for (char ch : subject) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7F) return "a subject must not contain spaces or control characters";
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = subject.find('.', start);
    const std::string_view token = subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (token.empty()) return "a subject's tokens are separated by single dots, none empty";
    const bool last = dot == std::string_view::npos;
    const bool wild = token.find_first_of("*>") != std::string_view::npos;
    if (wild) {
      if (!wildcards_allowed) {
        return "an out-bridge publishes to one literal subject: the wildcards * and > are for subscriptions (in-bridges)";
      }
      if (token != "*" && token != ">") return "a wildcard (* or >) must be a whole token";
      if (token == ">" && !last) return "the wildcard > must be the last token";
    }
    if (last) break;
    start = dot + 1;
  }
  return {};
}

// Why `name` is not a JetStream stream or consumer name ("" when it is one).
std::string jetstream_name_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 255) return "at most 255 characters";
  for (char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u >= 0x7F || ch == '.' || ch == '*' || ch == '>' || ch == '/' || ch == '\\') {
      return "JetStream names may not contain spaces, '.', '*', '>', '/', '\\' or non-printable characters";
    }
  }
  return {};
}

std::string url_problem(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("nats://")) rest = url.substr(7);
  else if (url.starts_with("tls://")) rest = url.substr(6);
  else return "a server URL starts with nats:// or tls:// (e.g. \"nats://127.0.0.1:4222\")";
  if (rest.empty() || rest.front() == ':' || rest.front() == '/') return "the URL names no host";
  for (char ch : rest) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7F || ch == ',') return "a URL must not contain spaces, commas or control characters";
  }
  return {};
}

}  // namespace stella::config::detail
