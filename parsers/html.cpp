// HTML to text with libxml2's HTML parser (tolerant of the tag soup mail clients write) and a
// small DOM walk that knows blocks, line breaks and table rows.
#include "parsers/html.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "parsers/text.h"

namespace tilskudd {
namespace {

constexpr int kMaxDepth = 400;  // DOM walk recursion bound (libxml2 nests at most ~256 anyway)

bool name_is(const xmlNode* n, const char* name) {
  return n->name != nullptr && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

bool is_skipped(const xmlNode* n) {
  static const char* const skip[] = {"head",     "script", "style",  "title",
                                     "template", "xml",    "object", "select"};
  for (const char* s : skip)
    if (name_is(n, s)) return true;
  return false;
}

bool is_block(const xmlNode* n) {
  static const char* const blocks[] = {
      "p",       "div",     "li",     "ul",     "ol",       "h1",         "h2",     "h3",
      "h4",      "h5",      "h6",     "table",  "tr",       "blockquote", "pre",    "address",
      "section", "article", "header", "footer", "nav",      "aside",      "hr",     "dl",
      "dt",      "dd",      "center", "form",   "fieldset", "legend",     "figure", "figcaption",
      "main",    "caption", "body",   "html",   "tbody",    "thead",      "tfoot"};
  for (const char* b : blocks)
    if (name_is(n, b)) return true;
  return false;
}

bool has_descendant(const xmlNode* n, const char* name, int depth = 0) {
  if (depth > kMaxDepth) return false;
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (name_is(c, name) || has_descendant(c, name, depth + 1)) return true;
  }
  return false;
}

class Renderer {
 public:
  std::string out;

  void soft_break() {
    if (!out.empty() && out.back() != '\n') out += '\n';
    pending_space_ = false;
  }
  void hard_break() {
    out += '\n';
    pending_space_ = false;
  }

  void text(std::string_view s) {
    for (char c : s) {
      if (pre_ > 0) {
        if (c == '\r') continue;
        out += c;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        pending_space_ = true;
        continue;
      }
      if (pending_space_ && !out.empty() && out.back() != '\n') out += ' ';
      pending_space_ = false;
      out += c;
    }
  }

  void walk(const xmlNode* n, int depth) {
    if (depth > kMaxDepth) return;
    for (const xmlNode* c = n; c != nullptr; c = c->next) node(c, depth);
  }

 private:
  void node(const xmlNode* n, int depth) {
    switch (n->type) {
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (n->content) text(reinterpret_cast<const char*>(n->content));
        return;
      case XML_ELEMENT_NODE:
        break;
      case XML_DOCUMENT_NODE:
      case XML_HTML_DOCUMENT_NODE:
        walk(n->children, depth + 1);
        return;
      default:
        return;  // comments (Outlook's conditional comments too), PIs, DTD
    }
    if (is_skipped(n)) return;
    if (name_is(n, "br")) {
      hard_break();
      return;
    }
    if (name_is(n, "tr")) {
      row(n, depth);
      return;
    }
    bool block = is_block(n);
    bool pre = name_is(n, "pre");
    if (block) soft_break();
    if (pre) ++pre_;
    walk(n->children, depth + 1);
    if (pre) --pre_;
    if (block) soft_break();
  }

  // One table row: cells joined by " | " on one line. A row with one cell, or whose cells hold
  // a nested table (layout tables, as Outlook writes them), is rendered as ordinary blocks.
  void row(const xmlNode* tr, int depth) {
    std::vector<const xmlNode*> cells;
    for (const xmlNode* c = tr->children; c != nullptr; c = c->next)
      if (c->type == XML_ELEMENT_NODE && (name_is(c, "td") || name_is(c, "th"))) cells.push_back(c);
    bool layout = cells.size() <= 1;
    for (const xmlNode* c : cells)
      if (has_descendant(c, "table")) layout = true;
    soft_break();
    if (layout) {
      walk(tr->children, depth + 1);
      soft_break();
      return;
    }
    std::string line;
    bool any = false;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      Renderer sub;
      sub.walk(cells[i]->children, depth + 1);
      std::string cell = text::collapse_spaces(sub.out);
      if (!text::trim(cell).empty()) any = true;
      if (i > 0) line += " | ";
      line += cell;
    }
    if (any) {
      out += line;
      soft_break();
    }
  }

  bool pending_space_ = false;
  int pre_ = 0;
};

// Non-breaking spaces to spaces, white space collapsed within lines, at most one empty line in
// a row, no empty lines at the ends.
std::string tidy(std::string_view s) {
  std::string nb;
  nb.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) == 0xC2 && i + 1 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) == 0xA0) {
      nb += ' ';
      ++i;
    } else {
      nb += s[i];
    }
  }
  std::string out;
  int empty_run = 0;
  for (std::string_view line : text::split_lines(nb)) {
    std::string l = text::collapse_spaces(line);
    if (l.empty()) {
      ++empty_run;
      continue;
    }
    if (!out.empty()) out += empty_run > 0 ? "\n\n" : "\n";
    empty_run = 0;
    out += l;
  }
  return out;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  std::string clean = text::sanitize_utf8(html);  // also drops NUL bytes
  if (clean.size() > static_cast<std::size_t>(INT_MAX)) clean.resize(INT_MAX);
  if (text::trim(clean).empty()) return {};
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                      HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT;
  htmlDocPtr doc =
      htmlReadMemory(clean.data(), static_cast<int>(clean.size()), nullptr, "UTF-8", options);
  if (doc == nullptr) return tidy(clean);
  Renderer r;
  r.walk(reinterpret_cast<const xmlNode*>(doc), 0);
  xmlFreeDoc(doc);
  return tidy(r.out);
}

}  // namespace tilskudd
