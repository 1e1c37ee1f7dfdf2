// MIME structure through mimetic 0.9.8, headers and decoding through our own code.
//
// mimetic's IteratorParser is a class template; we instantiate it with our own iterator type
// (`Cursor`, a `const char*` that also carries the parse context) and explicitly specialise the
// members that mimetic 0.9.8 gets wrong or that must be bounded for hostile input:
//  - addField: raw header fields go to our own model (mimetic's Content-Type parser is
//    quote-blind and re-serialises the value, so the raw text would be lost); per-entity header
//    bytes are capped.
//  - getType / getBoundary: decided from our RFC 2045/2231 parse of the raw Content-Type; nesting
//    deeper than Limits::max_depth is not descended (bounds mimetic's recursion).
//  - loadMultipart: stops creating entities beyond a budget derived from Limits::max_parts and
//    records missing closing boundaries.
//  - copy_until_boundary: boundaries only at line starts, any enclosing level, and the level
//    that matched is remembered, so a missing inner end boundary does not swallow the rest.
//  - onBlock / append*Block: bodies are recorded as views into the input (no copies).
//  - append: geometric growth with a cap (mimetic grows header buffers by 128 bytes:
//    quadratic on long lines).
#include "parsers/mime.h"

#include <iconv.h>
#include <mimetic/mimetic.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <iterator>
#include <list>
#include <map>
#include <unordered_map>

#include "parsers/base64.h"
#include "parsers/headers.h"
#include "parsers/html.h"
#include "parsers/text.h"
#include "parsers/uuencode.h"

namespace tilskudd::mime {
namespace {

enum class Kind { Leaf, Multipart, Message, TooDeep };

struct EntityInfo {
  std::vector<std::pair<std::string, std::string>> fields;  // raw, in order
  std::size_t header_bytes = 0;
  bool header_truncated = false;
  Kind kind = Kind::Leaf;
  int depth = 0;
  HeaderValue content_type;
  bool has_content_type = false;
  std::string_view body;    // view into the input
  std::string body_prefix;  // first body line when mimetic read it as a bad header line
  std::string_view preamble;
  bool closed = false;       // multipart: closing boundary seen
  bool no_boundary = false;  // multipart without a boundary parameter
};

struct Context {
  const Limits* limits = nullptr;
  std::unordered_map<const mimetic::MimeEntity*, EntityInfo> info;
  std::size_t entities = 0;
  std::size_t entity_budget = 0;
  bool budget_hit = false;
  int depth_cap = 20;
  std::size_t field_cap = 0;   // bytes kept per header name/value buffer
  int level = 0;               // level of the last boundary found (0 = innermost)
  bool closing = false;        // the last boundary found was a closing one
  bool message_header = true;  // the next entity is a message (the root, or message/rfc822's)
  bool digest_child = false;   // the next entity is a part of a multipart/digest
};

// `const char*` with the parse context attached; mimetic's parser copies iterators around,
// so every copy carries the context.
struct Cursor {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  const char* p = nullptr;
  Context* ctx = nullptr;

  reference operator*() const { return *p; }
  reference operator[](difference_type n) const { return p[n]; }
  Cursor& operator++() {
    ++p;
    return *this;
  }
  Cursor operator++(int) {
    Cursor t = *this;
    ++p;
    return t;
  }
  Cursor& operator--() {
    --p;
    return *this;
  }
  Cursor operator--(int) {
    Cursor t = *this;
    --p;
    return t;
  }
  Cursor& operator+=(difference_type n) {
    p += n;
    return *this;
  }
  Cursor& operator-=(difference_type n) {
    p -= n;
    return *this;
  }
  friend Cursor operator+(Cursor c, difference_type n) { return Cursor{c.p + n, c.ctx}; }
  friend Cursor operator+(difference_type n, Cursor c) { return Cursor{c.p + n, c.ctx}; }
  friend Cursor operator-(Cursor c, difference_type n) { return Cursor{c.p - n, c.ctx}; }
  friend difference_type operator-(Cursor a, Cursor b) { return a.p - b.p; }
  friend bool operator==(Cursor a, Cursor b) { return a.p == b.p; }
  friend bool operator!=(Cursor a, Cursor b) { return a.p != b.p; }
  friend bool operator<(Cursor a, Cursor b) { return a.p < b.p; }
  friend bool operator>(Cursor a, Cursor b) { return a.p > b.p; }
  friend bool operator<=(Cursor a, Cursor b) { return a.p <= b.p; }
  friend bool operator>=(Cursor a, Cursor b) { return a.p >= b.p; }
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

const std::string* find_field(const EntityInfo& info, std::string_view name) {
  for (const auto& [n, v] : info.fields)
    if (n.size() == name.size() && lower(n) == name) return &v;
  return nullptr;
}

// Whether a boundary line of one of `boundaries` ("--b", innermost first) starts at d (a line
// start): its level (0 innermost), whether it is a closing one, and `next`, the start of the line
// after it. -1 when none: the boundary must be followed by "--", white space and the line end.
int match_boundary(const char* d, const char* e, const std::list<std::string>& boundaries,
                   bool& closing, const char*& next) {
  if (e - d < 2 || d[0] != '-' || d[1] != '-') return -1;
  int level = 0;
  for (const std::string& bd : boundaries) {
    if (static_cast<std::size_t>(e - d) >= bd.size() && std::memcmp(d, bd.data(), bd.size()) == 0) {
      const char* q = d + bd.size();
      closing = false;
      if (e - q >= 2 && q[0] == '-' && q[1] == '-') {
        closing = true;
        q += 2;
      }
      while (q < e && (*q == ' ' || *q == '\t')) ++q;
      if (q == e || *q == '\r' || *q == '\n') {
        if (q < e && *q == '\r') ++q;
        if (q < e && *q == '\n') ++q;
        next = q;
        return level;
      }
    }
    ++level;
  }
  return -1;
}

// A message saved from an mbox file starts with the separator line "From sender date" (not a
// header: no colon after the name). Returns where the header block really starts.
const char* skip_mbox_from(const char* p, const char* e) {
  if (e - p < 5 || std::memcmp(p, "From ", 5) != 0) return p;
  const char* q = p + 5;
  while (q < e && (*q == ' ' || *q == '\t')) ++q;
  if (q < e && *q == ':') return p;  // "From : x", a sloppy From header
  while (q < e && *q != '\r' && *q != '\n') ++q;
  if (q == e) return p;
  if (*q == '\r') ++q;
  if (q < e && *q == '\n') ++q;
  return q;
}

}  // namespace
}  // namespace tilskudd::mime

// ---- Specialisations of mimetic's parser for our Cursor -------------------------------------
namespace mimetic {

using tilskudd::mime::Cursor;
using tilskudd::mime::EntityInfo;
using tilskudd::mime::Kind;
using BaseParser = IteratorParser<Cursor, std::input_iterator_tag>;
using RandomParser = IteratorParser<Cursor, std::random_access_iterator_tag>;

template <>
void BaseParser::append(char*& buf, size_t& bufsz, char c, size_t& pos) {
  const size_t cap = m_bit.ctx->field_cap;
  if (buf == nullptr || pos + 1 >= bufsz) {
    if (buf != nullptr && pos >= cap) return;  // over the cap: drop the byte
    size_t nsz = std::max<size_t>(256, bufsz * 2);
    char* nbuf = new char[nsz + 1];
    std::memset(nbuf, 0, nsz + 1);
    if (buf != nullptr) {
      std::memcpy(nbuf, buf, pos);
      delete[] buf;
    }
    buf = nbuf;
    bufsz = nsz;
  }
  if (pos >= cap) return;
  buf[pos++] = c;
}

template <>
void BaseParser::addField(const std::string& name, const std::string& value) {
  auto* ctx = m_bit.ctx;
  EntityInfo& info = ctx->info[m_entityStack.top()];
  std::size_t bytes = name.size() + value.size() + 4;
  if (info.header_bytes + bytes > ctx->limits->max_header_bytes) {
    info.header_truncated = true;
    return;
  }
  info.header_bytes += bytes;
  info.fields.emplace_back(name, value);
}

template <>
void BaseParser::appendBodyBlock(const char* buf, int sz) {
  if (sz > 0) m_bit.ctx->info[m_entityStack.top()].body_prefix.append(buf, sz);
}

template <>
void BaseParser::appendPreambleBlock(const char*, int) {}

template <>
void BaseParser::appendEpilogueBlock(const char*, int) {}

template <>
BaseParser::EntityType BaseParser::getType() {
  auto* ctx = m_bit.ctx;
  MimeEntity* me = m_entityStack.top();
  EntityInfo& info = ctx->info[me];
  info.depth = static_cast<int>(m_entityStack.size()) - 1;
  const bool digest_child = ctx->digest_child;
  ctx->digest_child = false;
  if (const std::string* ct = tilskudd::mime::find_field(info, "content-type")) {
    info.content_type = tilskudd::mime::parse_header_value(*ct);
    info.has_content_type = true;
  } else if (digest_child) {
    info.content_type.value = "message/rfc822";  // RFC 2046 5.1.5: the digest's default
  }
  const std::string& type = info.content_type.value;
  bool multipart = type.rfind("multipart/", 0) == 0;
  bool message = type == "message/rfc822" || type == "message/global";
  if (message) {
    // A message/rfc822 with base64 or QP content cannot be parsed in place.
    if (const std::string* cte = tilskudd::mime::find_field(info, "content-transfer-encoding")) {
      std::string v = tilskudd::mime::lower(tilskudd::text::trim(*cte));
      if (v == "base64" || v == "quoted-printable") message = false;
    }
  }
  if (multipart) {
    auto it = info.content_type.params.find("boundary");
    if (it == info.content_type.params.end() || it->second.empty()) {
      info.no_boundary = true;
      multipart = false;
    }
  }
  if ((multipart || message) && info.depth >= ctx->depth_cap) {
    info.kind = Kind::TooDeep;
    return etRfc822;
  }
  if (multipart) {
    info.kind = Kind::Multipart;
    return etMultipart;
  }
  if (message) {
    info.kind = Kind::Message;
    ++ctx->entities;
    ctx->message_header = true;  // mimetic loads the inner message next
    return etMsgRfc822;
  }
  info.kind = Kind::Leaf;
  return etRfc822;
}

// One entity: its header block, then its body. Two things mimetic gets wrong before the header:
// the mbox "From " separator line at the start of a message (it would end the header block
// and every header would be lost), and a boundary line where a part's header should start (an
// empty part, RFC 2046 5.1.1: mimetic read that boundary as a bad header line and swallowed the
// next part as this part's body). The same holds for a boundary line directly after a part's
// header lines, without the empty line.
template <>
void BaseParser::doLoad() {
  auto* ctx = m_bit.ctx;
  const bool message = ctx->message_header;
  ctx->message_header = false;
  if (message) m_bit.p = tilskudd::mime::skip_mbox_from(m_bit.p, m_eit.p);
  bool closing = false;
  const char* next = nullptr;
  if (!m_boundaryList.empty() &&
      tilskudd::mime::match_boundary(m_bit.p, m_eit.p, m_boundaryList, closing, next) >= 0) {
    ctx->digest_child = false;  // an empty part is an empty text part, also in a digest
    loadBody();                 // no header; the body ends at once, at this boundary
    return;
  }
  const char* start = m_bit.p;
  loadHeader();
  if (!m_boundaryList.empty()) {
    EntityInfo& info = ctx->info[m_entityStack.top()];
    const std::string& line = info.body_prefix;
    const char* at = m_bit.p - static_cast<std::ptrdiff_t>(line.size());
    if (!line.empty() && line.size() <= static_cast<std::size_t>(m_bit.p - start) &&
        std::memcmp(at, line.data(), line.size()) == 0 &&
        (at == start || at[-1] == '\n' || at[-1] == '\r') &&
        tilskudd::mime::match_boundary(at, m_eit.p, m_boundaryList, closing, next) >= 0) {
      info.body_prefix.clear();  // the "bad header line" is the next boundary: no body
      m_bit.p = at;
    }
  }
  loadBody();
}

template <>
std::string BaseParser::getBoundary() {
  EntityInfo& info = m_bit.ctx->info[m_entityStack.top()];
  return "--" + info.content_type.params["boundary"];
}

template <>
void BaseParser::loadMultipart() {
  auto* ctx = m_bit.ctx;
  EntityInfo* info = &ctx->info[m_entityStack.top()];
  m_boundaryList.push_front(getBoundary());
  copy_until_boundary(pePreamble);
  for (;;) {
    if (m_lastBoundary == HigherLevelBoundary) {
      // An enclosing boundary: this multipart ends without its closing boundary.
      m_boundaryList.erase(m_boundaryList.begin());
      if (--ctx->level <= 0) {
        ctx->level = 0;
        m_lastBoundary = ctx->closing ? ClosingBoundary : Boundary;
      }
      return;
    }
    if (m_lastBoundary == ClosingBoundary) {
      info->closed = true;
      m_boundaryList.erase(m_boundaryList.begin());
      copy_until_boundary(peEpilogue);
      return;
    }
    if (m_lastBoundary != Boundary || m_bit == m_eit) {
      // End of input without the closing boundary.
      m_boundaryList.erase(m_boundaryList.begin());
      m_lastBoundary = NoBoundary;
      return;
    }
    if (ctx->entities >= ctx->entity_budget) {
      ctx->budget_hit = true;
      jump_to_next_boundary();
    } else {
      ++ctx->entities;
      ctx->digest_child = info->content_type.value == "multipart/digest";
      pushNewChild();
      doLoad();
      popChild();
      info = &ctx->info[m_entityStack.top()];
    }
  }
}

template <>
void RandomParser::onBlock(Cursor bit, int size, ParsingElem pe) {
  if (size <= 0) return;
  EntityInfo& info = m_bit.ctx->info[m_entityStack.top()];
  std::string_view block(bit.p, static_cast<std::size_t>(size));
  if (pe == peBody) {
    if (info.body.empty() && info.body_prefix.empty()) {
      info.body = block;
    } else {
      // A second block (rare): keep everything in the owned prefix.
      info.body_prefix.append(info.body);
      info.body_prefix.append(block);
      info.body = {};
    }
  } else if (pe == pePreamble && info.preamble.empty()) {
    info.preamble = block;
  }
}

template <>
void RandomParser::copy_until_boundary(ParsingElem pe) {
  auto* ctx = m_bit.ctx;
  const char* b = m_bit.p;
  const char* e = m_eit.p;
  if (!m_boundaryList.empty()) {
    const char* p = b;
    while (p < e) {
      const void* found = std::memchr(p, '-', static_cast<std::size_t>(e - p));
      if (found == nullptr) break;
      const char* d = static_cast<const char*>(found);
      p = d + 1;
      if (!(d == b || d[-1] == '\n' || d[-1] == '\r')) continue;
      bool closing = false;
      const char* next = nullptr;
      const int level = tilskudd::mime::match_boundary(d, e, m_boundaryList, closing, next);
      if (level < 0) continue;
      const char* end = d;
      if (end > b && end[-1] == '\n') --end;
      if (end > b && end[-1] == '\r') --end;
      onBlock(Cursor{b, ctx}, static_cast<int>(end - b), pe);
      m_bit.p = next;
      ctx->level = level;
      ctx->closing = closing;
      m_lastBoundary = level == 0 ? (closing ? ClosingBoundary : Boundary) : HigherLevelBoundary;
      return;
    }
  }
  onBlock(Cursor{b, ctx}, static_cast<int>(e - b), pe);
  m_bit.p = e;
  m_lastBoundary = NoBoundary;
}

}  // namespace mimetic

namespace tilskudd::mime {
namespace {

struct Node {
  Kind kind = Kind::Leaf;
  std::string subtype;  // for multiparts
  int part = -1;        // index into Message::parts for leaves
  std::vector<Node> children;
};

// Whether to_utf8 can read `cs` (after the alias table, text::canonical_charset).
bool charset_known(const std::string& cs, std::map<std::string, bool>& cache) {
  auto it = cache.find(cs);
  if (it != cache.end()) return it->second;
  const std::string name = text::canonical_charset(cs);
  bool ok = name.empty() || name == "utf-8" || name == "windows-1252";
  if (!ok) {
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    ok = cd != reinterpret_cast<iconv_t>(-1);
    if (ok) iconv_close(cd);
  }
  cache.emplace(cs, ok);
  return ok;
}

std::string crlf_to_lf(std::string s) {
  std::size_t w = 0;
  for (std::size_t r = 0; r < s.size(); ++r) {
    if (s[r] == '\r') {
      s[w++] = '\n';
      if (r + 1 < s.size() && s[r + 1] == '\n') ++r;
    } else {
      s[w++] = s[r];
    }
  }
  s.resize(w);
  return s;
}

std::string strip_angles(std::string_view v) {
  std::string_view t = text::trim(v);
  if (!t.empty() && t.front() == '<') t.remove_prefix(1);
  if (!t.empty() && t.back() == '>') t.remove_suffix(1);
  return text::sanitize_utf8(text::trim(t));
}

class Walker {
 public:
  Walker(Context& ctx, Message& msg, const Limits& limits)
      : ctx_(ctx), msg_(msg), limits_(limits) {}

  Node walk(const mimetic::MimeEntity& e, int forwarded) {
    Node node;
    auto it = ctx_.info.find(&e);
    static const EntityInfo empty;
    const EntityInfo& info = it == ctx_.info.end() ? empty : it->second;
    if (info.header_truncated)
      defect("header block larger than " + std::to_string(limits_.max_header_bytes) +
             " bytes; the rest of it was ignored");
    if (info.no_boundary)
      defect(info.content_type.value + " without a boundary parameter; read as one part");
    node.kind = info.kind;
    switch (info.kind) {
      case Kind::TooDeep:
        defect("nesting deeper than " + std::to_string(ctx_.depth_cap) +
               " levels; the inner parts were skipped");
        return node;
      case Kind::Multipart: {
        node.subtype = info.content_type.value.substr(10);
        const auto& parts = e.body().parts();
        if (!info.closed)
          defect(info.content_type.value + " (boundary \"" +
                 info.content_type.params.at("boundary") +
                 "\"): closing boundary missing; the message may be truncated");
        if (parts.empty()) {
          defect(info.content_type.value + ": no part found (boundary never occurs)");
          // Read what there is as one text part, so the text is not lost.
          if (!info.preamble.empty()) node.children.push_back(fallback_leaf(info, forwarded));
          return node;
        }
        for (const mimetic::MimeEntity* child : parts)
          node.children.push_back(walk(*child, forwarded));
        return node;
      }
      case Kind::Message: {
        const auto& parts = e.body().parts();
        if (parts.empty()) return node;
        const mimetic::MimeEntity& inner = *parts.front();
        auto ii = ctx_.info.find(&inner);
        int index = static_cast<int>(msg_.forwarded.size());
        msg_.forwarded.emplace_back();
        if (ii != ctx_.info.end()) msg_.forwarded[index].headers = make_headers(ii->second.fields);
        node.children.push_back(walk(inner, index));
        Readable r = readable(node.children.back());
        msg_.forwarded[index].text = std::move(r.text);
        msg_.forwarded[index].hidden = std::move(r.hidden);
        return node;
      }
      case Kind::Leaf:
        node.part = add_leaf(info, forwarded);
        return node;
    }
    return node;
  }

  // The readable text of a node: `text` prefers text/plain in multipart/alternative, `shown`
  // the last HTML alternative (what a mail program shows, RFC 2046); kind 0 none, 1 plain,
  // 2 html; `hidden` how the HTML in it hid text (parsers/html.h).
  struct Readable {
    std::string text;
    std::string shown;
    int kind = 0;
    std::vector<std::string> hidden;
  };

  static void add_hidden(std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& h : from)
      if (std::find(to.begin(), to.end(), h) == to.end()) to.push_back(h);
  }

  static void append_text(std::string& to, std::string_view t) {
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\t'))
      t.remove_suffix(1);
    if (text::trim(t).empty()) return;
    if (!to.empty()) to += "\n\n";
    to += t;
  }

  Readable readable(const Node& n) const {
    switch (n.kind) {
      case Kind::Leaf: {
        if (n.part < 0) return {};
        const Part& p = msg_.parts[static_cast<std::size_t>(n.part)];
        if (p.is_attachment()) return {};
        if (p.content_type == "text/plain") return {p.body, p.body, 1, {}};
        if (p.content_type == "text/html") {
          HtmlText h = html_to_visible_text(p.body);
          Readable r{h.text, h.text, 2, std::move(h.hidden)};
          return r;
        }
        return {};
      }
      case Kind::Multipart: {
        Readable out;
        if (n.subtype == "alternative") {
          // The first text/plain alternative is read (as before); the last HTML one is what a
          // mail program shows. Hidden text in any HTML alternative is reported.
          const Readable* plain = nullptr;
          const Readable* html = nullptr;
          std::vector<Readable> rs;
          rs.reserve(n.children.size());
          for (const Node& c : n.children) rs.push_back(readable(c));
          for (const Readable& r : rs) {
            add_hidden(out.hidden, r.hidden);
            if (text::trim(r.text).empty()) continue;
            if (r.kind == 1 && plain == nullptr) plain = &r;
            if (r.kind == 2) html = &r;
          }
          if (plain == nullptr && html == nullptr) return out;
          out.text = plain ? plain->text : html->text;
          out.shown = html ? html->shown : plain->shown;
          out.kind = plain ? 1 : 2;
          return out;
        }
        for (const Node& c : n.children) {
          Readable r = readable(c);
          add_hidden(out.hidden, r.hidden);
          if (text::trim(r.text).empty()) continue;
          append_text(out.text, r.text);
          append_text(out.shown, r.shown);
          out.kind = (out.kind == 1 || r.kind == 1) ? 1 : std::max(out.kind, r.kind);
        }
        return out;
      }
      case Kind::Message:
      case Kind::TooDeep:
        return {};
    }
    return {};
  }

  bool parts_limit_hit = false;

 private:
  void defect(std::string d) {
    if (std::find(msg_.defects.begin(), msg_.defects.end(), d) == msg_.defects.end())
      msg_.defects.push_back(std::move(d));
  }

  Node fallback_leaf(const EntityInfo& info, int forwarded) {
    Node n;
    if (msg_.parts.size() >= limits_.max_parts) {
      parts_limit_hit = true;
      return n;
    }
    Part p;
    p.content_type = "text/plain";
    p.depth = info.depth + 1;
    p.forwarded = forwarded;
    p.body = crlf_to_lf(text::to_utf8(info.preamble, ""));
    n.part = static_cast<int>(msg_.parts.size());
    msg_.parts.push_back(std::move(p));
    return n;
  }

  int add_leaf(const EntityInfo& info, int forwarded) {
    if (msg_.parts.size() >= limits_.max_parts) {
      parts_limit_hit = true;
      return -1;
    }
    Part p;
    p.depth = info.depth;
    p.forwarded = forwarded;
    const HeaderValue& ct = info.content_type;
    if (ct.value.empty() || ct.value.find('/') == std::string::npos) {
      p.content_type = "text/plain";
    } else {
      p.content_type = text::sanitize_utf8(ct.value);
    }
    if (auto it = ct.params.find("charset"); it != ct.params.end())
      p.charset = lower(text::trim(it->second));
    HeaderValue cd;
    if (const std::string* v = find_field(info, "content-disposition")) {
      cd = parse_header_value(*v);
      p.disposition = text::sanitize_utf8(cd.value);
    }
    if (auto it = cd.params.find("filename"); it != cd.params.end() && !it->second.empty()) {
      p.filename = it->second;
    } else if (auto jt = ct.params.find("name"); jt != ct.params.end()) {
      p.filename = jt->second;
    }
    p.filename = std::string(text::trim(p.filename));
    if (const std::string* v = find_field(info, "content-id")) p.content_id = strip_angles(*v);

    std::string cte;
    if (const std::string* v = find_field(info, "content-transfer-encoding"))
      cte = lower(text::trim(*v));
    std::string joined;
    std::string_view raw = info.body;
    if (!info.body_prefix.empty()) {
      joined = info.body_prefix;
      joined += info.body;
      raw = joined;
    }
    std::string body;
    if (cte == "base64") {
      std::size_t skipped = 0;
      body = decode_base64(raw, &skipped);
      if (skipped > 0)
        defect("part " + std::to_string(msg_.parts.size() + 1) + " (" + p.content_type +
               "): invalid base64 (" + std::to_string(skipped) + " bad characters skipped)");
    } else if (cte == "quoted-printable") {
      body = decode_quoted_printable(raw);
    } else if (cte == "x-uuencode" || cte == "x-uue" || cte == "uuencode" || cte == "x-uuencoded" ||
               cte == "uue") {
      uu::Decoded d = uu::decode(raw);
      const std::string where =
          "part " + std::to_string(msg_.parts.size() + 1) + " (" + p.content_type + "): " + cte;
      if (!d.begun) {
        defect(where + " without a \"begin\" line; nothing could be decoded");
      } else if (d.bad_lines > 0 || !d.ended) {
        defect(where + ": invalid uuencode (" + std::to_string(d.bad_lines) + " bad lines skipped" +
               (d.ended ? "" : ", no \"end\" line") + ")");
      }
      if (p.filename.empty()) p.filename = text::sanitize_utf8(text::trim(d.name));
      body = std::move(d.data);
    } else {
      body.assign(raw);
    }
    std::vector<Part> extracted;
    if (p.content_type == "text/plain" && !p.is_attachment())
      extracted = extract_uuencoded(body, p, forwarded);
    if (p.is_text()) {
      if (!p.charset.empty() && !charset_known(p.charset, charsets_))
        defect("part " + std::to_string(msg_.parts.size() + 1) + ": unknown charset \"" +
               text::sanitize_utf8(p.charset) + "\"; read as UTF-8 or windows-1252");
      body = crlf_to_lf(text::to_utf8(body, p.charset));
    }
    p.body = std::move(body);
    msg_.parts.push_back(std::move(p));
    const int index = static_cast<int>(msg_.parts.size()) - 1;
    for (Part& x : extracted) msg_.parts.push_back(std::move(x));
    return index;
  }

  // The uuencoded blocks in a plain text body ("begin 644 brev.pdf" ... "end", as Eudora,
  // Pegasus and old scanners send a file): each becomes an attachment of its own and leaves the
  // text. Bounded by Limits::max_parts; blocks beyond it stay in the text.
  std::vector<Part> extract_uuencoded(std::string& body, const Part& text_part, int forwarded) {
    std::vector<Part> out;
    if (body.find("begin ") == std::string::npos) return out;
    const std::size_t room =
        limits_.max_parts > msg_.parts.size() + 1 ? limits_.max_parts - msg_.parts.size() - 1 : 0;
    bool more = false;
    std::vector<uu::Block> blocks = uu::find_blocks(body, room, &more);
    if (more) parts_limit_hit = true;
    if (blocks.empty()) return out;
    std::string rest;
    std::size_t from = 0;
    for (uu::Block& b : blocks) {
      rest.append(body, from, b.begin - from);
      from = b.end;
      Part x;
      x.depth = text_part.depth;
      x.forwarded = forwarded;
      x.disposition = "attachment";
      x.filename = text::sanitize_utf8(text::trim(b.name));
      x.content_type = type_for_name(x.filename);
      x.body = x.is_text() ? crlf_to_lf(text::to_utf8(b.data, "")) : std::move(b.data);
      out.push_back(std::move(x));
    }
    rest.append(body, from, std::string::npos);
    body = std::move(rest);
    return out;
  }

  static std::string type_for_name(std::string_view name) {
    static const std::pair<std::string_view, std::string_view> kTypes[] = {
        {"pdf", "application/pdf"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"doc", "application/msword"},
        {"txt", "text/plain"},
        {"htm", "text/html"},
        {"html", "text/html"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"png", "image/png"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"gif", "image/gif"}};
    const std::size_t dot = name.rfind('.');
    if (dot != std::string_view::npos) {
      const std::string ext = lower(name.substr(dot + 1));
      for (const auto& [e, type] : kTypes)
        if (ext == e) return std::string(type);
    }
    return "application/octet-stream";
  }

  Context& ctx_;
  Message& msg_;
  const Limits& limits_;
  std::map<std::string, bool> charsets_;
};

}  // namespace

bool Part::is_attachment() const {
  if (disposition == "attachment") return true;
  if (!filename.empty()) return true;
  return !is_text() && content_type.rfind("multipart/", 0) != 0;
}

std::string decode_base64(std::string_view in, std::size_t* skipped) {
  return base64::decode_mime(in, skipped);
}

std::string decode_quoted_printable(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    char c = in[i];
    if (c == '=') {
      if (i + 2 < n && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
        out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
        i += 3;
        continue;
      }
      // Soft line break: '=' [white space] CRLF|LF, or '=' at the very end.
      std::size_t j = i + 1;
      while (j < n && (in[j] == ' ' || in[j] == '\t')) ++j;
      if (j == n) {
        i = j;
        continue;
      }
      if (in[j] == '\r' || in[j] == '\n') {
        if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') ++j;
        i = j + 1;
        continue;
      }
      out += '=';  // invalid escape: keep literally
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t') {
      // Trailing white space before a line break is transport padding.
      std::size_t j = i;
      while (j < n && (in[j] == ' ' || in[j] == '\t')) ++j;
      if (j == n || in[j] == '\r' || in[j] == '\n') {
        i = j;
        continue;
      }
      out.append(in.substr(i, j - i));
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

Message parse(std::string_view raw, const Limits& limits) {
  Message msg;
  std::size_t max_bytes = std::min<std::size_t>(limits.max_message_bytes, INT_MAX / 2);
  if (raw.size() > max_bytes) {
    msg.defects.push_back("message is " + std::to_string(raw.size()) + " bytes; only the first " +
                          std::to_string(max_bytes) + " bytes were read (limit)");
    raw = raw.substr(0, max_bytes);
  }
  Context ctx;
  ctx.limits = &limits;
  // Every leaf costs one entity, every container one more; twice max_parts leaves room for
  // the containers of a normal message while bounding what a hostile one can make us build.
  ctx.entity_budget = limits.max_parts * 2 + 64;
  // mimetic recurses once per nesting level: cap it whatever the configuration says.
  ctx.depth_cap = std::clamp(limits.max_depth, 1, 200);
  ctx.field_cap = std::max<std::size_t>(limits.max_header_bytes, 1024);

  mimetic::MimeEntity root;
  try {
    Cursor begin{raw.data(), &ctx};
    Cursor end{raw.data() + raw.size(), &ctx};
    root.load(begin, end, mimetic::imEpilogue);
  } catch (const std::exception& e) {
    msg.defects.push_back(std::string("MIME parser error: ") + e.what());
  }

  Walker walker(ctx, msg, limits);
  auto ri = ctx.info.find(&root);
  if (ri != ctx.info.end()) msg.headers = make_headers(ri->second.fields);
  Node tree = walker.walk(root, -1);
  auto body = walker.readable(tree);
  msg.text = std::move(body.text);
  msg.shown_text = std::move(body.shown);
  msg.hidden = std::move(body.hidden);
  if (walker.parts_limit_hit || ctx.budget_hit)
    msg.defects.push_back("more than " + std::to_string(limits.max_parts) +
                          " parts; the rest were skipped (limit)");
  if (msg.headers.fields.empty() && !raw.empty()) msg.defects.push_back("no header fields found");
  return msg;
}

}  // namespace tilskudd::mime
