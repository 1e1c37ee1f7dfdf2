// RFC 8601 Authentication-Results, read forgivingly (see the header for what is accepted).
#include "parsers/auth_results.h"

#include <cctype>

#include "parsers/text.h"

namespace tilskudd::auth {

namespace {

// Guards against hostile headers: longer values are read up to this size; at most this many
// results are kept.
constexpr std::size_t kMaxValueBytes = 64u << 10;
constexpr std::size_t kMaxResults = 200;

// A ';'-separated part of the value with its comments taken out.
struct Segment {
  std::string text;     // comments replaced by a space; quoted strings kept with their quotes
  std::string comment;  // the comments' text, joined with "; "
};

// Splits on ';' outside quoted strings and comments; comments (nested, with \-escapes) move to
// Segment::comment. An unterminated quote or comment runs to the end of the value.
std::vector<Segment> segments(std::string_view v) {
  std::vector<Segment> out(1);
  bool quoted = false;
  int depth = 0;
  std::string comment;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    if (depth > 0) {
      if (c == '\\' && i + 1 < v.size()) {
        comment += v[++i];
      } else if (c == '(') {
        ++depth;
        comment += c;
      } else if (c == ')') {
        if (--depth == 0) {
          std::string t(text::collapse_spaces(comment));
          if (!t.empty()) out.back().comment += (out.back().comment.empty() ? "" : "; ") + t;
          comment.clear();
        } else {
          comment += c;
        }
      } else {
        comment += c;
      }
      continue;
    }
    if (quoted) {
      out.back().text += c;
      if (c == '\\' && i + 1 < v.size()) {
        out.back().text += v[++i];
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      out.back().text += c;
    } else if (c == '(') {
      depth = 1;
      out.back().text += ' ';
    } else if (c == ';') {
      out.emplace_back();
    } else {
      out.back().text += c;
    }
  }
  if (depth > 0) {
    std::string t(text::collapse_spaces(comment));
    if (!t.empty()) out.back().comment += (out.back().comment.empty() ? "" : "; ") + t;
  }
  return out;
}

struct Token {
  enum class Kind { word, quoted, equals };
  Kind kind = Kind::word;
  std::string text;  // a quoted string without its quotes and escapes
  bool space_before = false;
};

std::vector<Token> tokens(std::string_view s) {
  std::vector<Token> out;
  bool space = false;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ') {
      space = true;
      ++i;
      continue;
    }
    Token t;
    t.space_before = space;
    space = false;
    if (c == '=') {
      t.kind = Token::Kind::equals;
      t.text = "=";
      ++i;
    } else if (c == '"') {
      t.kind = Token::Kind::quoted;
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        t.text += s[i++];
      }
      if (i < s.size()) ++i;  // the closing quote
    } else {
      while (i < s.size() && s[i] != ' ' && s[i] != '=' && s[i] != '"') t.text += s[i++];
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool is_word(const Token& t) {
  return t.kind == Token::Kind::word && !t.text.empty();
}

// A value after '=': a quoted string, or the run of tokens written without white space between
// them (so "header.b=Ab+/c=" keeps its '=').
std::string read_value(const std::vector<Token>& toks, std::size_t& i) {
  if (i >= toks.size()) return "";
  if (toks[i].kind == Token::Kind::quoted) return toks[i++].text;
  std::string v = toks[i++].text;
  while (i < toks.size() && !toks[i].space_before && toks[i].kind != Token::Kind::quoted) {
    v += toks[i++].text;
  }
  return v;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "method[/version]=result [reason=...] [ptype.property=value ...]"; nullopt when the segment
// does not start with a method and a result.
std::optional<MethodResult> read_result(const std::vector<Token>& toks, std::string comment) {
  if (toks.size() < 3 || !is_word(toks[0]) || toks[1].kind != Token::Kind::equals ||
      toks[2].kind == Token::Kind::equals) {
    return std::nullopt;
  }
  MethodResult r;
  std::string method = toks[0].text;
  if (auto slash = method.find('/'); slash != std::string::npos) {
    r.version = std::string(text::trim(method.substr(slash + 1)));
    method = method.substr(0, slash);
  }
  r.method = text::to_lower(method);
  if (r.method.empty()) return std::nullopt;
  r.result = text::to_lower(toks[2].text);
  if (r.result.empty()) return std::nullopt;
  r.comment = std::move(comment);
  std::size_t i = 3;
  while (i < toks.size()) {
    if (!is_word(toks[i]) || i + 1 >= toks.size() || toks[i + 1].kind != Token::Kind::equals) {
      ++i;  // junk between properties: skipped
      continue;
    }
    std::string key = text::to_lower(toks[i].text);
    i += 2;
    std::string value = read_value(toks, i);
    if (key == "reason") {
      r.reason = value;
      continue;
    }
    Property p;
    if (auto dot = key.find('.'); dot != std::string::npos) {
      p.ptype = key.substr(0, dot);
      p.name = key.substr(dot + 1);
    } else {
      p.name = key;
    }
    p.value = std::move(value);
    if (!p.name.empty()) r.properties.push_back(std::move(p));
  }
  return r;
}

}  // namespace

std::string MethodResult::property(std::string_view ptype, std::string_view name) const {
  for (const auto& p : properties) {
    if (text::iequals(p.ptype, ptype) && text::iequals(p.name, name)) return p.value;
  }
  return "";
}

std::vector<const MethodResult*> AuthResults::find(std::string_view method) const {
  std::vector<const MethodResult*> out;
  for (const auto& r : results) {
    if (text::iequals(r.method, method)) out.push_back(&r);
  }
  return out;
}

std::optional<AuthResults> parse_authentication_results(std::string_view value) {
  if (value.size() > kMaxValueBytes) value = value.substr(0, kMaxValueBytes);
  std::vector<Segment> segs = segments(value);
  AuthResults ar;
  for (std::size_t s = 0; s < segs.size(); ++s) {
    std::vector<Token> toks = tokens(segs[s].text);
    if (toks.empty()) continue;
    if (s == 0) {
      bool has_equals = false;
      for (const auto& t : toks) has_equals |= t.kind == Token::Kind::equals;
      if (!has_equals) {
        // "authserv-id [version]"
        if (toks[0].text.empty()) continue;
        ar.has_authserv_id = true;
        ar.authserv_id = toks[0].text;
        if (toks.size() > 1 && toks[1].kind == Token::Kind::word && all_digits(toks[1].text)) {
          ar.version = toks[1].text;
        }
        continue;
      }
      // No authserv-id: the value starts with a result (Exchange Online).
    }
    if (toks.size() == 1 && toks[0].kind == Token::Kind::word &&
        text::iequals(toks[0].text, "none")) {
      ar.none = true;
      continue;
    }
    if (ar.results.size() >= kMaxResults) break;
    if (auto r = read_result(toks, segs[s].comment)) ar.results.push_back(std::move(*r));
  }
  if (!ar.has_authserv_id && ar.results.empty() && !ar.none) return std::nullopt;
  return ar;
}

}  // namespace tilskudd::auth
