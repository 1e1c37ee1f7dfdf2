#include "daemon/imap_protocol.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace tilskudd::imap {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_ctl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

struct Seg {
  bool literal = false;
  std::string bytes;
};

// Reads tokens from a response held as segments: text, literal, text, literal, ..., text.
class Cursor {
 public:
  Cursor(std::vector<Seg>& segs, std::size_t max_depth) : segs_(segs), max_depth_(max_depth) {}

  bool at_end() const { return seg_ + 1 >= segs_.size() && pos_ >= cur().size(); }
  int peek() const { return pos_ < cur().size() ? static_cast<unsigned char>(cur()[pos_]) : -1; }
  void advance() { ++pos_; }
  bool eat(char c) {
    if (peek() != static_cast<unsigned char>(c)) return false;
    ++pos_;
    return true;
  }
  void skip_spaces() {
    while (peek() == ' ') ++pos_;
  }
  // The rest of the current text segment (human text; never contains literals).
  std::string rest() {
    std::string out = cur().substr(pos_);
    pos_ = cur().size();
    return out;
  }
  // An atom; stops at SP, CTL, parens, quote, '{' and (when stop_at_bracket) an unbalanced ']'.
  // Brackets nest and may contain spaces and lists: BODY[HEADER.FIELDS (FROM TO)]<0>.
  std::string atom(bool stop_at_bracket) {
    std::string out;
    int depth = 0;
    while (true) {
      const int c = peek();
      if (c < 0 || is_ctl(static_cast<unsigned char>(c))) break;
      if (depth == 0 && (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{')) break;
      if (c == '[') ++depth;
      if (c == ']') {
        if (depth == 0) {
          if (stop_at_bracket) break;
        } else {
          --depth;
        }
      }
      out.push_back(static_cast<char>(c));
      ++pos_;
    }
    return out;
  }

  std::optional<Value> value(std::size_t depth, bool stop_at_bracket, std::string& err) {
    const int c = peek();
    if (c == '(') {
      if (depth >= max_depth_) {
        err = "lists nested too deeply";
        return std::nullopt;
      }
      ++pos_;
      Value v;
      v.kind = Value::Kind::list;
      while (true) {
        skip_spaces();
        if (eat(')')) return v;
        if (peek() < 0 && !next_is_literal()) {
          err = "unterminated list";
          return std::nullopt;
        }
        auto item = value(depth + 1, stop_at_bracket, err);
        if (!item) return std::nullopt;
        v.items.push_back(std::move(*item));
      }
    }
    if (c == '"') {
      ++pos_;
      Value v;
      v.kind = Value::Kind::string;
      while (true) {
        const int q = peek();
        if (q < 0) {
          err = "unterminated quoted string";
          return std::nullopt;
        }
        ++pos_;
        if (q == '"') return v;
        if (q == '\\') {
          const int e = peek();
          if (e < 0) {
            err = "unterminated quoted string";
            return std::nullopt;
          }
          ++pos_;
          v.text.push_back(static_cast<char>(e));
          continue;
        }
        if (q == '\r' || q == '\n' || q == 0) {
          err = "control character in quoted string";
          return std::nullopt;
        }
        v.text.push_back(static_cast<char>(q));
      }
    }
    if (c == '{') {
      // The scanner guarantees "{n}" / "{n+}" ends the text segment and a literal follows.
      const std::size_t close = cur().find('}', pos_);
      if (close == std::string::npos || close + 1 != cur().size() || !next_is_literal()) {
        err = "malformed literal";
        return std::nullopt;
      }
      Value v;
      v.kind = Value::Kind::string;
      v.text = std::move(segs_[seg_ + 1].bytes);
      seg_ += 2;
      pos_ = 0;
      return v;
    }
    if (c < 0) {
      err = "unexpected end of response";
      return std::nullopt;
    }
    Value v;
    v.text = atom(stop_at_bracket);
    if (v.text.empty()) {
      err = "unexpected character in response";
      return std::nullopt;
    }
    if (upper(v.text) == "NIL") {
      v.kind = Value::Kind::nil;
      v.text.clear();
    } else if (auto n = parse_u64(v.text)) {
      v.kind = Value::Kind::number;
      v.number = *n;
    }
    return v;
  }

  // Values separated by spaces up to the end of the response (or an unbalanced ']').
  bool values(std::vector<Value>& out, bool stop_at_bracket, std::string& err) {
    while (true) {
      skip_spaces();
      if (at_end()) return true;
      if (stop_at_bracket && peek() == ']') return true;
      auto v = value(0, stop_at_bracket, err);
      if (!v) return false;
      out.push_back(std::move(*v));
    }
  }

 private:
  const std::string& cur() const { return segs_[seg_].bytes; }
  bool next_is_literal() const { return seg_ + 1 < segs_.size() && segs_[seg_ + 1].literal; }

  std::vector<Seg>& segs_;
  std::size_t max_depth_;
  std::size_t seg_ = 0;
  std::size_t pos_ = 0;
};

std::optional<Status> status_word(std::string_view w) {
  const std::string u = upper(w);
  if (u == "OK") return Status::ok;
  if (u == "NO") return Status::no;
  if (u == "BAD") return Status::bad;
  if (u == "PREAUTH") return Status::preauth;
  if (u == "BYE") return Status::bye;
  return std::nullopt;
}

// After the status word: [SP ["[" code "]"] [SP] text].
bool status_rest(Cursor& c, Response& r, std::size_t max_depth, std::string& err) {
  c.skip_spaces();
  if (c.eat('[')) {
    ResponseCode code;
    code.name = upper(c.atom(true));
    if (code.name.empty()) {
      err = "empty response code";
      return false;
    }
    c.skip_spaces();
    // Raw text of the arguments up to the matching ']' (quoted strings may hold ']').
    int depth = 0;
    bool in_quote = false;
    while (true) {
      const int ch = c.peek();
      if (ch < 0) {
        err = "unterminated response code";
        return false;
      }
      if (in_quote) {
        if (ch == '\\') {
          code.raw.push_back('\\');
          c.advance();
          if (c.peek() < 0) continue;
          code.raw.push_back(static_cast<char>(c.peek()));
          c.advance();
          continue;
        }
        if (ch == '"') in_quote = false;
      } else if (ch == '"') {
        in_quote = true;
      } else if (ch == '[') {
        ++depth;
      } else if (ch == ']') {
        if (depth == 0) break;
        --depth;
      }
      code.raw.push_back(static_cast<char>(ch));
      c.advance();
    }
    c.advance();  // ']'
    std::vector<Seg> segs(1);
    segs[0].bytes = code.raw;
    Cursor args(segs, max_depth);
    std::string ignored;
    if (!args.values(code.args, false, ignored)) code.args.clear();
    r.code = std::move(code);
    c.skip_spaces();
  }
  r.text = c.rest();
  return true;
}

bool strict_keyword(const std::string& k) {
  return k == "FETCH" || k == "SEARCH" || k == "STATUS" || k == "CAPABILITY" || k == "FLAGS" ||
         k == "LIST" || k == "LSUB" || k == "ENABLED";
}

std::optional<Response> parse_response(std::vector<Seg>& segs, std::size_t max_depth,
                                       std::string& err) {
  Cursor c(segs, max_depth);
  Response r;
  if (c.eat('+')) {
    r.type = Response::Type::continuation;
    c.eat(' ');
    r.text = c.rest();
    return r;
  }
  if (c.eat('*')) {
    r.type = Response::Type::untagged;
    if (!c.eat(' ')) {
      err = "missing space after '*'";
      return std::nullopt;
    }
    std::string first = c.atom(false);
    if (first.empty()) {
      err = "empty untagged response";
      return std::nullopt;
    }
    if (auto n = parse_u64(first)) {
      r.number = *n;
      if (!c.eat(' ')) {
        err = "missing keyword after message number";
        return std::nullopt;
      }
      first = c.atom(false);
      if (first.empty()) {
        err = "missing keyword after message number";
        return std::nullopt;
      }
    }
    r.keyword = upper(first);
    if (!r.number) {
      if (auto st = status_word(r.keyword)) {
        r.status = st;
        if (!status_rest(c, r, max_depth, err)) return std::nullopt;
        return r;
      }
    }
    std::string verr;
    if (!c.values(r.data, false, verr)) {
      if (strict_keyword(r.keyword)) {
        err = r.keyword + ": " + verr;
        return std::nullopt;
      }
      r.data.clear();  // unknown extension data: keep the keyword, ignore the rest
    }
    return r;
  }
  r.type = Response::Type::tagged;
  r.tag = c.atom(false);
  if (r.tag.empty() ||
      std::any_of(r.tag.begin(), r.tag.end(), [](char ch) { return ch == '[' || ch == ']'; })) {
    err = "malformed tag";
    return std::nullopt;
  }
  if (!c.eat(' ')) {
    err = "missing status after tag";
    return std::nullopt;
  }
  auto st = status_word(c.atom(true));
  if (!st || *st == Status::preauth || *st == Status::bye) {
    err = "tagged response without OK/NO/BAD";
    return std::nullopt;
  }
  r.status = st;
  if (!status_rest(c, r, max_depth, err)) return std::nullopt;
  return r;
}

// "{123}" or "{123+}" at the end of a line: the literal's size.
std::optional<std::optional<std::uint64_t>> literal_suffix(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::optional<std::uint64_t>{};
  const std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::optional<std::uint64_t>{};
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  if (!inner.empty() && inner.back() == '+') inner.remove_suffix(1);
  if (inner.empty() ||
      !std::all_of(inner.begin(), inner.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::optional<std::uint64_t>{};  // not a literal (e.g. text ending in '}')
  }
  auto n = parse_u64(inner);
  if (!n) return std::nullopt;  // digits, but too large
  return std::optional<std::uint64_t>{*n};
}

}  // namespace

bool Value::is_atom(std::string_view upper_name) const {
  return kind == Kind::atom && upper(text) == upper(upper_name);
}

ResponseParser::ResponseParser(ParserLimits limits) : limits_(limits) {}

void ResponseParser::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  segments_.clear();
  literal_left_ = 0;
}

Response ResponseParser::pop() {
  Response r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

bool ResponseParser::feed(std::string_view bytes) {
  while (!bytes.empty() && !failed()) {
    if (literal_left_ > 0) {
      const std::size_t n = std::min(literal_left_, bytes.size());
      segments_.back().bytes.append(bytes.data(), n);
      bytes.remove_prefix(n);
      literal_left_ -= n;
      if (literal_left_ == 0) segments_.push_back(Segment{});  // the line continues
      continue;
    }
    if (segments_.empty()) segments_.push_back(Segment{});
    const std::size_t nl = bytes.find('\n');
    const std::size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    line_bytes_ += take;
    response_bytes_ += take;
    if (line_bytes_ > limits_.max_line_bytes) {
      fail("response line longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
      break;
    }
    segments_.back().bytes.append(bytes.data(), take);
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    end_of_line();
  }
  return !failed();
}

void ResponseParser::end_of_line() {
  std::string& line = segments_.back().bytes;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  auto lit = literal_suffix(line);
  if (!lit) {
    fail("literal size is not a number we accept");
    return;
  }
  if (!*lit) {
    finish_response();
    return;
  }
  const std::uint64_t n = **lit;
  if (n > limits_.max_literal_bytes) {
    fail("literal of " + std::to_string(n) + " bytes exceeds the limit of " +
         std::to_string(limits_.max_literal_bytes));
    return;
  }
  if (response_bytes_ + n > limits_.max_response_bytes) {
    fail("response larger than " + std::to_string(limits_.max_response_bytes) + " bytes");
    return;
  }
  response_bytes_ += n;
  Segment lit_seg;
  lit_seg.literal = true;
  lit_seg.bytes.reserve(static_cast<std::size_t>(n));  // the one and only buffer for the literal
  segments_.push_back(std::move(lit_seg));
  literal_left_ = static_cast<std::size_t>(n);
  if (literal_left_ == 0) segments_.push_back(Segment{});
}

void ResponseParser::finish_response() {
  std::vector<Seg> segs;
  segs.reserve(segments_.size());
  for (auto& s : segments_) segs.push_back(Seg{s.literal, std::move(s.bytes)});
  segments_.clear();
  line_bytes_ = 0;
  response_bytes_ = 0;
  if (segs.size() == 1 && segs[0].bytes.empty()) return;  // tolerate empty lines
  std::string err;
  auto r = parse_response(segs, limits_.max_depth, err);
  if (!r) {
    fail("malformed IMAP response: " + err);
    return;
  }
  ready_.push_back(std::move(*r));
}

// --- typed views ---

namespace {

std::optional<std::uint32_t> as_u32(const Value& v) {
  if (v.kind != Value::Kind::number || v.number > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(v.number);
}

std::optional<std::vector<std::string>> flag_list(const Value& v) {
  if (v.kind != Value::Kind::list) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& f : v.items) {
    if (f.kind != Value::Kind::atom && f.kind != Value::Kind::number) return std::nullopt;
    out.push_back(f.text);
  }
  return out;
}

}  // namespace

namespace {

// A body-fld-param list: ("NAME" "x.pdf" "CHARSET" "utf-8"); collects the file names.
void collect_names(const Value& params, BodyOutline& out) {
  if (params.kind != Value::Kind::list) return;
  for (std::size_t i = 0; i + 1 < params.items.size(); i += 2) {
    const Value& k = params.items[i];
    const Value& v = params.items[i + 1];
    if (k.kind != Value::Kind::string || v.kind != Value::Kind::string) continue;
    const std::string key = upper(k.text);
    if (key == "NAME" || key == "FILENAME" || key == "NAME*" || key == "FILENAME*" ||
        key.rfind("NAME*", 0) == 0 || key.rfind("FILENAME*", 0) == 0)
      out.filenames.emplace_back(key, v.text);
  }
}

void outline(const Value& v, std::size_t depth, BodyOutline& out) {
  if (v.kind != Value::Kind::list || v.items.empty() || depth > 32) return;
  if (v.items[0].kind == Value::Kind::list) {
    // multipart: the parts, then the subtype and extension data.
    for (const Value& part : v.items) {
      if (part.kind != Value::Kind::list) break;
      outline(part, depth + 1, out);
    }
    return;
  }
  // A leaf: type, subtype, params, id, description, encoding, size, ...; message/rfc822 carries
  // the envelope and the inner structure at 7 and 8; the disposition follows the MD5 at 8 (or 9
  // for text, 10 for message/rfc822), as ("attachment" ("filename" "x.pdf")).
  ++out.parts;
  const bool is_text = v.items[0].kind == Value::Kind::string && upper(v.items[0].text) == "TEXT";
  if (!is_text) ++out.non_text_parts;
  if (v.items.size() > 2) collect_names(v.items[2], out);
  for (std::size_t i = 7; i < v.items.size(); ++i) {
    const Value& x = v.items[i];
    if (x.kind != Value::Kind::list || x.items.empty()) continue;
    if (x.items[0].kind == Value::Kind::list) {
      outline(x, depth + 1, out);  // an inner body structure (message/rfc822)
    } else if (x.items.size() == 2 && x.items[0].kind == Value::Kind::string &&
               x.items[1].kind == Value::Kind::list) {
      collect_names(x.items[1], out);  // the disposition
    } else if (i == 8 && x.items.size() >= 2 && x.items[0].kind == Value::Kind::string &&
               upper(v.items[0].text) == "MESSAGE") {
      outline(x, depth + 1, out);
    }
  }
}

}  // namespace

BodyOutline outline_bodystructure(const Value& v) {
  BodyOutline out;
  outline(v, 0, out);
  return out;
}

std::optional<FetchData> take_fetch(Response& r) {
  if (r.type != Response::Type::untagged || r.keyword != "FETCH" || !r.number ||
      r.data.size() != 1 || r.data[0].kind != Value::Kind::list) {
    return std::nullopt;
  }
  FetchData f;
  f.seq = *r.number;
  auto& items = r.data[0].items;
  if (items.size() % 2 != 0) return std::nullopt;
  for (std::size_t i = 0; i < items.size(); i += 2) {
    if (items[i].kind != Value::Kind::atom) return std::nullopt;
    const std::string name = upper(items[i].text);
    Value& v = items[i + 1];
    if (name == "UID") {
      f.uid = as_u32(v);
      if (!f.uid) return std::nullopt;
    } else if (name == "FLAGS") {
      f.flags = flag_list(v);
      if (!f.flags) return std::nullopt;
    } else if (name == "RFC822.SIZE") {
      if (v.kind != Value::Kind::number) return std::nullopt;
      f.rfc822_size = v.number;
    } else if (name == "INTERNALDATE") {
      if (v.kind != Value::Kind::string) return std::nullopt;
      f.internaldate = v.text;
    } else if (name == "BODY[HEADER]" || name == "RFC822.HEADER") {
      if (v.kind != Value::Kind::string && v.kind != Value::Kind::nil) return std::nullopt;
      f.header = v.kind == Value::Kind::string ? std::move(v.text) : std::string();
    } else if (name.rfind("BODY[HEADER.FIELDS", 0) == 0) {
      if (v.kind != Value::Kind::string && v.kind != Value::Kind::nil) return std::nullopt;
      f.header_fields = v.kind == Value::Kind::string ? std::move(v.text) : std::string();
    } else if (name == "BODYSTRUCTURE") {
      f.structure = outline_bodystructure(v);
    } else if (name == "BODY[]" || name == "BODY[]<0>" || name == "RFC822") {
      if (v.kind == Value::Kind::string) {
        f.body = std::move(v.text);
      } else if (v.kind == Value::Kind::nil) {
        f.body = std::string();
      } else {
        return std::nullopt;
      }
    }
  }
  return f;
}

std::optional<std::vector<std::uint32_t>> search_result(const Response& r) {
  if (r.type != Response::Type::untagged || r.keyword != "SEARCH" || r.number) return std::nullopt;
  std::vector<std::uint32_t> out;
  out.reserve(r.data.size());
  for (const auto& v : r.data) {
    if (v.kind == Value::Kind::list) continue;  // (MODSEQ n)
    auto n = as_u32(v);
    if (!n) return std::nullopt;
    out.push_back(*n);
  }
  return out;
}

std::optional<StatusData> status_result(const Response& r) {
  if (r.type != Response::Type::untagged || r.keyword != "STATUS" || r.data.size() != 2 ||
      r.data[1].kind != Value::Kind::list) {
    return std::nullopt;
  }
  StatusData s;
  const Value& name = r.data[0];
  if (name.kind != Value::Kind::atom && name.kind != Value::Kind::string &&
      name.kind != Value::Kind::number) {
    return std::nullopt;
  }
  s.mailbox = name.text;
  const auto& items = r.data[1].items;
  if (items.size() % 2 != 0) return std::nullopt;
  for (std::size_t i = 0; i < items.size(); i += 2) {
    if (items[i].kind != Value::Kind::atom || items[i + 1].kind != Value::Kind::number) {
      return std::nullopt;
    }
    const std::string k = upper(items[i].text);
    const std::uint64_t n = items[i + 1].number;
    if (k == "MESSAGES") s.messages = n;
    if (k == "RECENT") s.recent = n;
    if (k == "UIDNEXT") s.uidnext = n;
    if (k == "UIDVALIDITY") s.uidvalidity = n;
    if (k == "UNSEEN") s.unseen = n;
  }
  return s;
}

std::optional<std::vector<std::string>> capabilities(const Response& r) {
  const std::vector<Value>* vals = nullptr;
  if (r.type == Response::Type::untagged && r.keyword == "CAPABILITY") {
    vals = &r.data;
  } else if (r.code && r.code->name == "CAPABILITY") {
    vals = &r.code->args;
  } else {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& v : *vals) {
    if (v.kind != Value::Kind::atom) return std::nullopt;
    out.push_back(upper(v.text));
  }
  return out;
}

std::optional<std::vector<std::string>> flags_result(const Response& r) {
  if (r.type == Response::Type::untagged && r.keyword == "FLAGS" && r.data.size() == 1) {
    return flag_list(r.data[0]);
  }
  if (r.code && r.code->name == "PERMANENTFLAGS" && r.code->args.size() == 1) {
    return flag_list(r.code->args[0]);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> code_number(const Response& r, std::string_view code_name) {
  if (!r.code || r.code->name != upper(code_name) || r.code->args.empty() ||
      r.code->args[0].kind != Value::Kind::number) {
    return std::nullopt;
  }
  return r.code->args[0].number;
}

// --- building commands ---

std::optional<std::string> quote(std::string_view s, bool allow_8bit) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u == 0 || u == '\r' || u == '\n') return std::nullopt;
    if (u >= 0x80 && !allow_8bit) return std::nullopt;
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

std::string format_uid_range(std::uint32_t first, std::optional<std::uint32_t> last) {
  if (!last) return std::to_string(first) + ":*";
  if (*last == first) return std::to_string(first);
  return std::to_string(first) + ":" + std::to_string(*last);
}

std::string format_uid_set(std::vector<std::uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::string out;
  std::size_t i = 0;
  while (i < uids.size()) {
    std::size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!out.empty()) out.push_back(',');
    out += format_uid_range(uids[i], uids[j]);
    i = j + 1;
  }
  return out;
}

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

// Decodes one UTF-8 code point at s[i]; advances i. nullopt on invalid UTF-8.
std::optional<char32_t> utf8_next(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return std::nullopt;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += static_cast<std::size_t>(len);
  return cp;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::optional<std::string> encode_mailbox_name(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> pending;  // UTF-16 units of the current shifted run
  auto flush = [&] {
    if (pending.empty()) return;
    out.push_back('&');
    std::uint32_t bits = 0;
    int nbits = 0;
    for (std::uint16_t u : pending) {
      bits = (bits << 16) | u;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out.push_back(kB64[(bits >> nbits) & 0x3F]);
      }
      bits &= (1u << nbits) - 1;
    }
    if (nbits > 0) out.push_back(kB64[(bits << (6 - nbits)) & 0x3F]);
    out.push_back('-');
    pending.clear();
  };
  std::size_t i = 0;
  while (i < utf8.size()) {
    auto cp = utf8_next(utf8, i);
    if (!cp) return std::nullopt;
    if (*cp >= 0x20 && *cp <= 0x7e) {
      flush();
      if (*cp == '&') {
        out += "&-";
      } else {
        out.push_back(static_cast<char>(*cp));
      }
    } else if (*cp >= 0x10000) {
      const char32_t v = *cp - 0x10000;
      pending.push_back(static_cast<std::uint16_t>(0xD800 + (v >> 10)));
      pending.push_back(static_cast<std::uint16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      pending.push_back(static_cast<std::uint16_t>(*cp));
    }
  }
  flush();
  return out;
}

std::optional<std::string> decode_mailbox_name(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return std::nullopt;
    if (c != '&') {
      out.push_back(c);
      ++i;
      continue;
    }
    const std::size_t end = s.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      out.push_back('&');
      i = end + 1;
      continue;
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    std::vector<std::uint16_t> units;
    for (std::size_t k = i + 1; k < end; ++k) {
      const int v = b64_index(s[k]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push_back(static_cast<std::uint16_t>((bits >> nbits) & 0xFFFF));
        bits &= (1u << nbits) - 1;
      }
    }
    if (nbits >= 6 || bits != 0 || units.empty()) return std::nullopt;  // bad padding
    for (std::size_t k = 0; k < units.size(); ++k) {
      const std::uint16_t w = units[k];
      if (w >= 0xD800 && w <= 0xDBFF) {
        if (k + 1 >= units.size() || units[k + 1] < 0xDC00 || units[k + 1] > 0xDFFF) {
          return std::nullopt;
        }
        utf8_append(
            out, 0x10000 + ((static_cast<char32_t>(w) - 0xD800) << 10) + (units[k + 1] - 0xDC00));
        ++k;
      } else if (w >= 0xDC00 && w <= 0xDFFF) {
        return std::nullopt;
      } else {
        if (w >= 0x20 && w <= 0x7e) return std::nullopt;  // must have been sent directly
        utf8_append(out, w);
      }
    }
    i = end + 1;
  }
  return out;
}

}  // namespace tilskudd::imap
