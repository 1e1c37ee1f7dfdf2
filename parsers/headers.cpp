#include "parsers/headers.h"

#include <algorithm>
#include <cstdint>

#include "parsers/text.h"

namespace tilskudd::mime {

namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

// Q encoding of RFC 2047 ('_' is a space).
std::string decode_q(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      out += ' ';
    } else if (c == '=' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

struct EncodedWord {
  size_t end = 0;  // index just past "?="
  std::string charset;
  std::string bytes;
};

// Parses "=?charset[*lang]?B|Q?text?=" at s[pos]. Encoded words never contain white space.
bool parse_encoded_word(std::string_view s, size_t pos, EncodedWord& w) {
  if (s.compare(pos, 2, "=?") != 0) return false;
  size_t q1 = s.find('?', pos + 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return false;
  std::string_view charset = s.substr(pos + 2, q1 - pos - 2);
  if (charset.empty() || charset.size() > 64) return false;
  for (char c : charset)
    if (is_wsp(c)) return false;
  char enc = s[q1 + 1];
  size_t text_start = q1 + 3;
  size_t close = s.find("?=", text_start);
  if (close == std::string_view::npos) return false;
  std::string_view payload = s.substr(text_start, close - text_start);
  for (char c : payload)
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  if (size_t star = charset.find('*'); star != std::string_view::npos)
    charset = charset.substr(0, star);  // RFC 2231 language tag
  w.charset = ascii_lower(charset);
  if (enc == 'B' || enc == 'b') {
    w.bytes = decode_base64(payload);
  } else if (enc == 'Q' || enc == 'q') {
    w.bytes = decode_q(payload);
  } else {
    return false;
  }
  w.end = close + 2;
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Removes RFC 5322 comments "(...)" (nested, with quoted-pairs) outside quoted strings.
std::string strip_comments(std::string_view s, std::string* comment_text = nullptr) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (depth == 0 && c == '"') quoted = !quoted;
    if (c == '\\' && i + 1 < s.size() && (quoted || depth > 0)) {
      if (depth == 0) {
        out += c;
        out += s[i + 1];
      } else if (comment_text) {
        *comment_text += s[i + 1];
      }
      ++i;
      continue;
    }
    if (!quoted && c == '(') {
      if (depth > 0 && comment_text) *comment_text += c;
      ++depth;
      continue;
    }
    if (!quoted && c == ')' && depth > 0) {
      --depth;
      if (depth > 0 && comment_text) *comment_text += c;
      continue;
    }
    if (depth > 0) {
      if (comment_text) *comment_text += c;
      continue;
    }
    out += c;
  }
  return out;
}

// Removes surrounding quotes and backslash escapes.
std::string unquote(std::string_view s) {
  s = text::trim(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') continue;
    if (c == '\\' && i + 1 < s.size()) {
      out += s[++i];
      continue;
    }
    out += c;
  }
  return out;
}

struct Segment {
  bool encoded = false;
  std::string value;
};

}  // namespace

std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\r' || c == '\n') {
      size_t j = i;
      if (c == '\r' && j + 1 < raw.size() && raw[j + 1] == '\n') ++j;
      if (j + 1 < raw.size() && (raw[j + 1] == ' ' || raw[j + 1] == '\t')) {
        i = j;  // drop the line break, keep the white space that follows
        continue;
      }
      i = j;
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

std::string decode_rfc2047(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  std::string pending_bytes;  // adjacent encoded words in one charset are joined as bytes
  std::string pending_charset;
  auto flush = [&] {
    if (!pending_bytes.empty()) out += text::to_utf8(pending_bytes, pending_charset);
    pending_bytes.clear();
    pending_charset.clear();
  };
  std::string raw_run;  // unencoded text, converted as one run
  auto flush_raw = [&] {
    if (!raw_run.empty()) out += text::to_utf8(raw_run, "");
    raw_run.clear();
  };
  size_t i = 0;
  bool last_was_word = false;
  while (i < value.size()) {
    EncodedWord w;
    if (value[i] == '=' && parse_encoded_word(value, i, w)) {
      flush_raw();
      if (!pending_bytes.empty() && w.charset != pending_charset) flush();
      pending_charset = w.charset;
      pending_bytes += w.bytes;
      i = w.end;
      last_was_word = true;
      continue;
    }
    if (last_was_word && is_wsp(value[i])) {
      // White space between two encoded words is dropped; before other text it is kept.
      size_t j = i;
      while (j < value.size() && is_wsp(value[j])) ++j;
      EncodedWord next;
      if (j < value.size() && value[j] == '=' && parse_encoded_word(value, j, next)) {
        i = j;
        continue;
      }
    }
    if (last_was_word) flush();
    last_was_word = false;
    raw_run += value[i];
    ++i;
  }
  flush();
  flush_raw();
  return text::sanitize_utf8(out);
}

HeaderValue parse_header_value(std::string_view raw) {
  HeaderValue hv;
  size_t i = 0;
  const size_t n = raw.size();
  // The value: up to the first ';' (comments removed).
  {
    size_t semi = raw.find(';');
    std::string_view v = raw.substr(0, semi == std::string_view::npos ? n : semi);
    hv.value = ascii_lower(text::collapse_spaces(strip_comments(v)));
    hv.value.erase(std::remove(hv.value.begin(), hv.value.end(), ' '), hv.value.end());
    hv.value.erase(std::remove(hv.value.begin(), hv.value.end(), '"'), hv.value.end());
    i = semi == std::string_view::npos ? n : semi;
  }
  // name -> segments by index (-1 for the unnumbered form).
  std::map<std::string, std::map<int, Segment>> extended;
  std::map<std::string, std::string> plain;
  while (i < n) {
    while (i < n && (raw[i] == ';' || is_wsp(raw[i]))) ++i;
    if (i >= n) break;
    size_t name_start = i;
    while (i < n && raw[i] != '=' && raw[i] != ';') ++i;
    std::string name = ascii_lower(text::trim(raw.substr(name_start, i - name_start)));
    if (i >= n || raw[i] == ';') continue;  // a parameter without '=': ignored
    ++i;                                    // '='
    while (i < n && (raw[i] == ' ' || raw[i] == '\t')) ++i;
    std::string value;
    if (i < n && raw[i] == '"') {
      ++i;
      while (i < n && raw[i] != '"') {
        if (raw[i] == '\\' && i + 1 < n) ++i;
        value += raw[i];
        ++i;
      }
      if (i < n) ++i;                      // closing quote
      while (i < n && raw[i] != ';') ++i;  // junk after the quoted string
    } else {
      size_t vs = i;
      while (i < n && raw[i] != ';') ++i;
      value = std::string(text::trim(raw.substr(vs, i - vs)));
    }
    if (name.empty()) continue;
    // RFC 2231: name*, name*N, name*N*.
    size_t star = name.find('*');
    if (star == std::string::npos) {
      if (!plain.count(name)) plain[name] = std::move(value);
      continue;
    }
    std::string base = name.substr(0, star);
    std::string rest = name.substr(star + 1);
    Segment seg;
    int index = -1;
    if (rest.empty()) {
      seg.encoded = true;
    } else {
      bool enc = rest.back() == '*';
      if (enc) rest.pop_back();
      if (rest.empty() || rest.size() > 4 ||
          !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      index = std::stoi(rest);
      seg.encoded = enc;
    }
    seg.value = std::move(value);
    if (!base.empty()) extended[base].emplace(index, std::move(seg));
  }
  for (auto& [name, value] : plain) {
    if (name == "boundary")
      hv.params[name] = value;
    else
      hv.params[name] = decode_rfc2047(value);
  }
  for (auto& [name, segments] : extended) {
    std::string charset;
    std::string bytes;
    bool first = true;
    for (auto& [index, seg] : segments) {
      std::string_view v = seg.value;
      if (first && seg.encoded) {
        // charset'language'value
        size_t q1 = v.find('\'');
        size_t q2 = q1 == std::string_view::npos ? std::string_view::npos : v.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = ascii_lower(v.substr(0, q1));
          v = v.substr(q2 + 1);
        }
      }
      first = false;
      bytes += seg.encoded ? percent_decode(v) : std::string(v);
    }
    std::string decoded = charset.empty() ? decode_rfc2047(bytes) : text::to_utf8(bytes, charset);
    hv.params[name] = std::move(decoded);  // the RFC 2231 form wins over the plain one
  }
  return hv;
}

namespace {

// RFC 5322 3.4 address lists, read leniently: tokens first (quoted strings, comments, angle
// addresses, specials, atoms), then mailboxes. Linear in the input.
struct AddrToken {
  enum Kind { word, comment, angle, special } kind = word;
  std::string text;     // word: as written (quotes kept); comment: its text; angle: inside
  std::string content;  // word: the text a reader sees (quotes and escapes removed)
  bool space_before = false;
  char c = 0;  // special: ',' ';' ':'
};

std::vector<AddrToken> address_tokens(std::string_view raw) {
  std::vector<AddrToken> out;
  const std::size_t n = raw.size();
  bool space = false;
  std::size_t i = 0;
  while (i < n) {
    const char c = raw[i];
    if (is_wsp(c)) {
      space = true;
      ++i;
      continue;
    }
    AddrToken t;
    t.space_before = space;
    space = false;
    if (c == '"') {
      t.text += '"';
      ++i;
      while (i < n && raw[i] != '"') {
        if (raw[i] == '\\' && i + 1 < n) {
          t.text += raw[i];
          ++i;
        }
        t.text += raw[i];
        t.content += raw[i];
        ++i;
      }
      t.text += '"';
      if (i < n) ++i;
    } else if (c == '(') {
      t.kind = AddrToken::comment;
      int depth = 1;
      ++i;
      while (i < n && depth > 0) {
        char d = raw[i];
        if (d == '\\' && i + 1 < n) {
          t.text += raw[i + 1];
          i += 2;
          continue;
        }
        if (d == '(') ++depth;
        if (d == ')' && --depth == 0) {
          ++i;
          break;
        }
        t.text += d;
        ++i;
      }
      space = true;  // a comment separates like white space
    } else if (c == '<') {
      t.kind = AddrToken::angle;
      ++i;
      bool quoted = false;
      while (i < n && (quoted || raw[i] != '>')) {
        if (raw[i] == '\\' && quoted && i + 1 < n) t.text += raw[i++];
        if (raw[i] == '"') quoted = !quoted;
        t.text += raw[i];
        ++i;
      }
      if (i < n) ++i;
    } else if (c == ',' || c == ';' || c == ':') {
      t.kind = AddrToken::special;
      t.c = c;
      ++i;
    } else if (c == '>' || c == ')') {
      ++i;  // stray closing bracket
      continue;
    } else {
      while (i < n && !is_wsp(raw[i]) && raw[i] != '"' && raw[i] != '(' && raw[i] != '<' &&
             raw[i] != '>' && raw[i] != ',' && raw[i] != ';' && raw[i] != ':' && raw[i] != ')') {
        t.text += raw[i];
        ++i;
      }
      t.content = t.text;
    }
    out.push_back(std::move(t));
  }
  return out;
}

// "local@domain" from an addr-spec as written (comments, white space, an obsolete route and
// the local part's quotes removed; the domain lower-cased); "" when it is not one.
std::string normalise_addr_spec(std::string_view spec) {
  std::string s = strip_comments(spec);
  std::string t;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && quoted && i + 1 < s.size()) {
      t += c;
      t += s[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && is_wsp(c)) continue;
    t += c;
  }
  if (!t.empty() && t.front() == '@') {  // obsolete route "@a,@b:local@domain"
    std::size_t colon = t.find(':');
    t = colon == std::string::npos ? std::string() : t.substr(colon + 1);
  }
  std::size_t at = t.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= t.size()) return "";
  std::string local = unquote(std::string_view(t).substr(0, at));
  if (local.empty()) return "";
  return text::sanitize_utf8(local + "@" + ascii_lower(std::string_view(t).substr(at + 1)));
}

std::string display_text(std::string_view s) {
  return decode_rfc2047(text::collapse_spaces(s));
}

}  // namespace

std::vector<Address> parse_addresses(std::string_view raw) {
  std::vector<Address> out;
  // Words run together without white space form one chunk ("\"a b\"@x.no"); a chunk with an
  // unquoted '@' is a bare addr-spec, other chunks are the display name of the address after.
  struct Chunk {
    std::string spec;     // as written
    std::string display;  // as a reader sees it
    std::string comment;  // the comment right after it
    bool at = false;
  };
  std::vector<Chunk> pending;
  std::string item_comment;
  bool group = false;
  auto flush = [&] {
    bool any_at = false;
    for (const Chunk& c : pending) any_at = any_at || c.at;
    if (!any_at) {
      std::string name;
      for (const Chunk& c : pending) name += (name.empty() ? "" : " ") + c.display;
      if (!text::trim(name).empty()) out.push_back({display_text(name), ""});
    } else {
      std::string name;
      for (const Chunk& c : pending) {
        if (!c.at) {
          name += (name.empty() ? "" : " ") + c.display;
          continue;
        }
        Address a;
        a.address = normalise_addr_spec(c.spec);
        const std::string& d = !name.empty() ? name : !c.comment.empty() ? c.comment : item_comment;
        a.display_name = display_text(d);
        if (a.address.empty() && a.display_name.empty()) a.display_name = display_text(c.display);
        out.push_back(std::move(a));
        name.clear();
      }
    }
    pending.clear();
    item_comment.clear();
  };
  bool after_word = false;
  for (AddrToken& t : address_tokens(raw)) {
    switch (t.kind) {
      case AddrToken::word:
        if (after_word && !t.space_before && !pending.empty()) {
          pending.back().spec += t.text;
          pending.back().display += t.content;
        } else {
          pending.push_back({t.text, t.content, "", false});
        }
        if (t.text.find('@') != std::string::npos && t.text.front() != '"')
          pending.back().at = true;
        after_word = true;
        continue;
      case AddrToken::comment:
        if (!pending.empty() && pending.back().comment.empty()) {
          pending.back().comment = t.text;
        } else if (pending.empty() && item_comment.empty()) {
          item_comment = t.text;
        }
        break;
      case AddrToken::angle: {
        Address a;
        a.address = normalise_addr_spec(t.text);
        std::string name;
        for (const Chunk& c : pending) name += (name.empty() ? "" : " ") + c.display;
        a.display_name = display_text(name);
        if (a.address.empty() && a.display_name.empty() && !text::trim(t.text).empty())
          a.display_name = display_text(t.text);
        if (!a.address.empty() || !a.display_name.empty()) out.push_back(std::move(a));
        pending.clear();
        item_comment.clear();
        break;
      }
      case AddrToken::special:
        if (t.c == ':' && !group) {
          pending.clear();  // the group's display name
          item_comment.clear();
          group = true;
        } else if (t.c == ':') {
          pending.clear();
        } else {
          flush();
          if (t.c == ';') group = false;
        }
        break;
    }
    after_word = false;
  }
  flush();
  return out;
}

std::vector<std::string> parse_message_ids(std::string_view raw) {
  std::vector<std::string> ids;
  std::string s = strip_comments(raw);
  std::string_view sv = s;
  if (sv.find('<') != std::string_view::npos) {
    size_t pos = 0;
    while ((pos = sv.find('<', pos)) != std::string_view::npos) {
      size_t gt = sv.find('>', pos + 1);
      std::string_view id =
          sv.substr(pos + 1, gt == std::string_view::npos ? sv.npos : gt - pos - 1);
      std::string clean;
      for (char c : id)
        if (!is_wsp(c)) clean += c;
      if (!clean.empty()) ids.push_back(text::sanitize_utf8(clean));
      if (gt == std::string_view::npos) break;
      pos = gt + 1;
    }
    return ids;
  }
  size_t i = 0;
  while (i < sv.size()) {
    while (i < sv.size() && (is_wsp(sv[i]) || sv[i] == ',')) ++i;
    size_t st = i;
    while (i < sv.size() && !is_wsp(sv[i]) && sv[i] != ',') ++i;
    if (i > st) ids.push_back(text::sanitize_utf8(sv.substr(st, i - st)));
  }
  return ids;
}

Headers make_headers(const std::vector<std::pair<std::string, std::string>>& raw_fields) {
  Headers h;
  h.fields.reserve(raw_fields.size());
  bool seen_subject = false, seen_id = false, seen_irt = false, seen_refs = false,
       seen_date = false, seen_to = false, seen_reply = false;
  for (const auto& [name, raw_value] : raw_fields) {
    std::string value = unfold(raw_value);
    std::string lname = ascii_lower(name);
    if (lname == "subject" && !seen_subject) {
      seen_subject = true;
      h.subject = std::string(text::trim(decode_rfc2047(value)));
    } else if (lname == "message-id" && !seen_id) {
      seen_id = true;
      auto ids = parse_message_ids(value);
      if (!ids.empty()) h.message_id = ids.front();
    } else if (lname == "in-reply-to" && !seen_irt) {
      seen_irt = true;
      auto ids = parse_message_ids(value);
      if (!ids.empty()) h.in_reply_to = ids.front();
    } else if (lname == "references" && !seen_refs) {
      seen_refs = true;
      h.references = parse_message_ids(value);
    } else if (lname == "date" && !seen_date) {
      seen_date = true;
      h.date = text::sanitize_utf8(text::trim(value));
    } else if (lname == "from") {
      // Every From field and every mailbox in it: RFC 5322 allows one field, but a message
      // with two must not be read as if it had only the convenient one.
      auto more = parse_addresses(value);
      h.from.insert(h.from.end(), more.begin(), more.end());
    } else if (lname == "to") {
      seen_to = true;
      auto more = parse_addresses(value);
      h.to.insert(h.to.end(), more.begin(), more.end());
    } else if (lname == "reply-to" && !seen_reply) {
      seen_reply = true;
      h.reply_to = parse_addresses(value);
    } else if (lname == "return-path" && !h.has_return_path) {
      h.has_return_path = true;
      std::string v = strip_comments(value);
      std::string_view t = text::trim(v);
      if (!t.empty() && t.front() == '<') {
        size_t gt = t.find('>');
        t = t.substr(1, gt == std::string_view::npos ? t.npos : gt - 1);
      }
      h.return_path = text::sanitize_utf8(text::trim(t));
    }
    h.fields.emplace_back(text::sanitize_utf8(name), decode_rfc2047(value));
  }
  (void)seen_to;
  return h;
}

std::string Headers::get(std::string_view name) const {
  for (const auto& [n, v] : fields)
    if (n.size() == name.size() && ascii_lower(n) == ascii_lower(name)) return v;
  return {};
}

bool Headers::has(std::string_view name) const {
  for (const auto& f : fields)
    if (f.first.size() == name.size() && ascii_lower(f.first) == ascii_lower(name)) return true;
  return false;
}

}  // namespace tilskudd::mime
