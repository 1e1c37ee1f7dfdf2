// HTML to text with libxml2's HTML parser (tolerant of the tag soup mail clients write) and a
// small DOM walk that knows blocks, line breaks, table rows and what a mail program would not
// show (inline styles, presentational attributes, the document's simple <style> rules).
#include "parsers/html.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "parsers/css.h"
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

std::string attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

bool has_attr(const xmlNode* n, const char* name) {
  return xmlHasProp(n, reinterpret_cast<const xmlChar*>(name)) != nullptr;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// --- What a mail program shows (DECISIONS.md "Hidden text") ---------------------------------

constexpr double kTinyPx = 4.0;      // font-size below this (3pt) is not readable text
constexpr double kMinOpacity = 0.1;  // opacity (and text alpha) below this is not seen
constexpr int kSameColour = 16;      // text this close to its background (per channel) is unseen
constexpr std::size_t kMaxHidden = 8;
constexpr int kMaxCommentDepth = 2;  // conditional comments read as HTML, nested at most this
constexpr std::size_t kMaxClasses = 32;

const css::Color kBlack{0, 0, 0, 1.0};
const css::Color kWhite{255, 255, 255, 1.0};

// The computed style of an element, as far as visibility goes.
struct Style {
  double font_px = 16.0;
  css::Color color = kBlack;       // the text colour
  css::Color background = kWhite;  // the nearest opaque background under the text
  double opacity = 1.0;            // multiplied down the tree
  bool visible = true;             // visibility
  const char* gone = nullptr;      // why the box is not rendered at all (display:none...)
  const char* clipped = nullptr;   // why its content is clipped away or off-screen
  bool outlook_hidden = false;     // inside <!--[if !mso]><!--> ... <!--<![endif]-->
};

enum Prop : int {
  kDisplay,
  kVisibility,
  kOpacity,
  kFontSize,
  kColor,
  kTextFill,
  kBackground,
  kMsoHide,
  kHeight,
  kMaxHeight,
  kWidth,
  kMaxWidth,
  kOverflow,
  kTextIndent,
  kPosition,
  kLeft,
  kTop,
  kPropCount
};

struct PropName {
  const char* name;
  Prop prop;
};
constexpr PropName kProps[] = {{"display", kDisplay},
                               {"visibility", kVisibility},
                               {"opacity", kOpacity},
                               {"font-size", kFontSize},
                               {"font", kFontSize},
                               {"color", kColor},
                               {"-webkit-text-fill-color", kTextFill},
                               {"background-color", kBackground},
                               {"background", kBackground},
                               {"mso-hide", kMsoHide},
                               {"height", kHeight},
                               {"max-height", kMaxHeight},
                               {"width", kWidth},
                               {"max-width", kMaxWidth},
                               {"overflow", kOverflow},
                               {"overflow-x", kOverflow},
                               {"overflow-y", kOverflow},
                               {"text-indent", kTextIndent},
                               {"position", kPosition},
                               {"left", kLeft},
                               {"top", kTop}};

// One declared value and where it came from, for a tiny cascade: presentational attributes <
// style sheet < inline style < important style sheet < important inline; then specificity, then
// source order.
struct Declared {
  bool set = false;
  std::string value;
  int tier = 0;
  int specificity = 0;
  std::size_t order = 0;
  const char* origin = nullptr;  // "the hidden attribute" for display from `hidden`
};

using Declarations = std::array<Declared, kPropCount>;

void declare(Declarations& d, const std::string& property, const std::string& value, int tier,
             int specificity, std::size_t order, const char* origin = nullptr) {
  for (const PropName& p : kProps) {
    if (property != p.name) continue;
    std::string v = value;
    if (property == "font") {
      auto size = css::font_shorthand_size(value);
      if (!size) return;
      v = *size;
    }
    Declared& slot = d[p.prop];
    if (slot.set &&
        std::tie(slot.tier, slot.specificity, slot.order) > std::tie(tier, specificity, order))
      return;
    slot = Declared{true, std::move(v), tier, specificity, order, origin};
    if (property == "background") slot.origin = "shorthand";
    return;
  }
}

// <font size="1".."7" | "+n" | "-n">: the legacy sizes; the scale stops at 1 (10 px), so a font
// element alone never makes text tiny.
std::optional<double> legacy_font_px(std::string_view v) {
  v = text::trim(v);
  int sign = 0;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    sign = v[0] == '+' ? 1 : -1;
    v.remove_prefix(1);
  }
  int n = 0, digits = 0;
  while (digits < static_cast<int>(v.size()) && digits < 3 && v[digits] >= '0' && v[digits] <= '9')
    n = n * 10 + (v[digits++] - '0');
  if (digits == 0) return std::nullopt;
  if (sign != 0) n = 3 + sign * n;
  n = std::clamp(n, 1, 7);
  static constexpr double kSizes[] = {10, 13, 16, 18, 24, 32, 48};
  return kSizes[n - 1];
}

bool same_colour(const css::Color& a, const css::Color& b) {
  return std::abs(a.r - b.r) <= kSameColour && std::abs(a.g - b.g) <= kSameColour &&
         std::abs(a.b - b.b) <= kSameColour;
}

css::Color over(const css::Color& top, const css::Color& under) {
  auto mix = [&](int t, int u) {
    return static_cast<int>(std::lround(t * top.a + u * (1.0 - top.a)));
  };
  return css::Color{mix(top.r, under.r), mix(top.g, under.g), mix(top.b, under.b), 1.0};
}

bool zero_length(const Declared& d, double font_px) {
  if (!d.set) return false;
  auto px = css::length_px(d.value, font_px);
  return px && *px <= 0.5;
}

bool far_negative(const Declared& d, double font_px) {
  if (!d.set) return false;
  auto px = css::length_px(d.value, font_px);
  return px && *px <= -500.0;
}

// Why text in this style is not seen, or nullptr when it is.
const char* hidden_reason(const Style& s) {
  if (s.gone) return s.gone;
  if (s.clipped) return s.clipped;
  if (!s.visible) return "visibility:hidden";
  if (s.opacity < kMinOpacity) return "opacity:0";
  if (s.font_px < kTinyPx) return "font-size under 4px";
  if (s.color.a < kMinOpacity) return "transparent text";
  if (same_colour(over(s.color, s.background), s.background))
    return "text in the background colour";
  return nullptr;
}

// Text that would matter if hidden: a letter or a digit. White space, punctuation and the
// invisible padding characters of newsletter preheaders (U+00A0, U+00AD, U+034F, U+200B-U+200F,
// U+2060-U+206F, U+FEFF) do not.
bool significant(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
      ++i;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    unsigned long cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : len == 2 ? c & 0x1F : c;
    for (int k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += static_cast<std::size_t>(len);
    bool invisible = cp < 0xC0 || cp == 0xD7 || cp == 0xF7 || cp == 0x034F ||
                     (cp >= 0x2000 && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF ||
                     cp == 0xFFFD || cp == 0x180E;
    if (!invisible) return true;
  }
  return false;
}

struct Context {
  css::StyleSheet sheet;
  std::vector<std::string> hidden;
  int comment_depth = 0;
  std::size_t order = 0;

  void record(const char* how) {
    if (hidden.size() >= kMaxHidden) return;
    if (std::find(hidden.begin(), hidden.end(), how) == hidden.end()) hidden.emplace_back(how);
  }
};

HtmlText visible_text(std::string_view html, int comment_depth);

// Every <style> element's rules, wherever it stands.
void collect_styles(const xmlNode* n, css::StyleSheet& sheet, int depth) {
  if (depth > kMaxDepth) return;
  for (const xmlNode* c = n; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && name_is(c, "style")) {
      std::string css_text;
      for (const xmlNode* t = c->children; t != nullptr; t = t->next)
        if (t->content) css_text += reinterpret_cast<const char*>(t->content);
      css::add_rules(sheet, css_text);
      continue;
    }
    if (c->children) collect_styles(c->children, sheet, depth + 1);
  }
}

// Whether a declaration alone would hide text (for rules whose selectors we cannot match).
bool hides(const css::Declaration& d) {
  const std::string& v = d.value;
  if (d.property == "display") return v == "none";
  if (d.property == "visibility") return v == "hidden" || v == "collapse";
  if (d.property == "mso-hide") return v == "all";
  if (d.property == "opacity") {
    auto n = css::length_px(v, 100.0);
    return n && *n < kMinOpacity;
  }
  if (d.property == "font-size" || d.property == "font") {
    auto size = d.property == "font" ? css::font_shorthand_size(v) : std::optional<std::string>(v);
    auto px = size ? css::font_size_px(*size, 16.0) : std::nullopt;
    return px && *px < kTinyPx;
  }
  if (d.property == "color" || d.property == "-webkit-text-fill-color") {
    auto c = css::parse_color(v);
    return c && (c->a < kMinOpacity || same_colour(*c, kWhite));
  }
  return false;
}

class Renderer {
 public:
  explicit Renderer(Context& ctx) : ctx_(ctx) {}

  std::string out;

  void soft_break() {
    if (!out.empty() && out.back() != '\n') out += '\n';
    pending_space_ = false;
  }
  void hard_break() {
    out += '\n';
    pending_space_ = false;
  }

  void text(std::string_view s, const Style& st) {
    if (const char* why = hidden_reason(st)) {
      if (significant(s)) ctx_.record(why);
      // Unseen text that still takes room (in the background colour, visibility:hidden) leaves
      // a gap between the words around it.
      if (!s.empty() && !st.gone && !st.clipped && st.font_px >= kTinyPx) pending_space_ = true;
      return;
    }
    if (st.outlook_hidden && significant(s)) ctx_.record("text Outlook does not show");
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

  void walk(const xmlNode* n, const Style& st, int depth) {
    if (depth > kMaxDepth) return;
    bool not_outlook = false;
    for (const xmlNode* c = n; c != nullptr; c = c->next) {
      if (c->type == XML_COMMENT_NODE) {
        comment(c, st, &not_outlook);
        continue;
      }
      if (not_outlook && !st.outlook_hidden) {
        Style inside = st;
        inside.outlook_hidden = true;
        node(c, inside, depth);
      } else {
        node(c, st, depth);
      }
    }
  }

 private:
  // Outlook's conditional comments: <!--[if mso]>...<![endif]--> is shown by Outlook alone (so
  // not read, and flagged when it holds text); <!--[if !mso]><!--> ... <!--<![endif]--> is shown
  // by every other program but not by Outlook (read, and flagged when it holds text).
  void comment(const xmlNode* c, const Style& st, bool* not_outlook) {
    if (c->content == nullptr) return;
    std::string_view content = text::trim(reinterpret_cast<const char*>(c->content));
    if (content.rfind("<![endif]", 0) == 0) {
      *not_outlook = false;
      return;
    }
    if (content.rfind("[if", 0) != 0) return;
    std::size_t close = content.find("]>");
    if (close == std::string_view::npos) return;
    std::string condition = lower_ascii(content.substr(3, close - 3));
    std::string_view rest = content.substr(close + 2);
    if (condition.find("mso") == std::string::npos) return;
    bool negated = condition.find("!mso") != std::string::npos;
    if (text::trim(rest) == "<!") {
      if (negated) *not_outlook = true;
      return;
    }
    if (negated || hidden_reason(st) || ctx_.comment_depth >= kMaxCommentDepth) return;
    std::size_t endif = rest.find("<![endif]");
    HtmlText inner = visible_text(rest.substr(0, endif), ctx_.comment_depth + 1);
    if (significant(inner.text)) ctx_.record("text only Outlook shows (a conditional comment)");
  }

  Style compute(const xmlNode* n, const Style& parent) {
    Style s = parent;
    Declarations d;
    std::size_t& order = ctx_.order;
    // Presentational attributes, the lowest tier.
    if (has_attr(n, "hidden")) declare(d, "display", "none", 0, 0, order++, "the hidden attribute");
    if (std::string bg = attr(n, "bgcolor"); !bg.empty())
      declare(d, "background-color", lower_ascii(bg), 0, 0, order++);
    if (name_is(n, "font")) {
      if (std::string c = attr(n, "color"); !c.empty())
        declare(d, "color", lower_ascii(c), 0, 0, order++);
      if (auto px = legacy_font_px(attr(n, "size")))
        declare(d, "font-size", std::to_string(*px) + "px", 0, 0, order++);
    }
    if (name_is(n, "body")) {
      if (std::string c = attr(n, "text"); !c.empty())
        declare(d, "color", lower_ascii(c), 0, 0, order++);
    }
    if (name_is(n, "small") || name_is(n, "sub") || name_is(n, "sup"))
      declare(d, "font-size", "smaller", 0, 0, order++);
    // The document's style sheet.
    if (!ctx_.sheet.rules.empty()) {
      std::vector<std::string> classes;
      std::string cls = lower_ascii(attr(n, "class"));
      for (std::size_t i = 0; i < cls.size() && classes.size() < kMaxClasses;) {
        while (i < cls.size() && std::isspace(static_cast<unsigned char>(cls[i]))) ++i;
        std::size_t j = i;
        while (j < cls.size() && !std::isspace(static_cast<unsigned char>(cls[j]))) ++j;
        if (j > i) classes.push_back(cls.substr(i, j - i));
        i = j;
      }
      std::string tag = n->name ? lower_ascii(reinterpret_cast<const char*>(n->name)) : "";
      for (const css::Rule* r : css::matching(ctx_.sheet, tag, lower_ascii(attr(n, "id")), classes))
        for (const auto& decl : r->declarations)
          declare(d, decl.property, decl.value, decl.important ? 3 : 1, r->subject.specificity,
                  r->order);
    }
    // The inline style.
    if (std::string inline_style = attr(n, "style"); !inline_style.empty()) {
      for (const auto& decl : css::parse_declarations(inline_style))
        declare(d, decl.property, decl.value, decl.important ? 4 : 2, 0, order++);
    }

    if (d[kFontSize].set) {
      if (auto px = css::font_size_px(d[kFontSize].value, parent.font_px)) s.font_px = *px;
    }
    const Declared& colour = d[kTextFill].set ? d[kTextFill] : d[kColor];
    if (colour.set) {
      if (auto c = css::parse_color(colour.value)) s.color = *c;
    }
    if (d[kBackground].set) {
      std::optional<css::Color> bg =
          d[kBackground].origin != nullptr
              ? std::optional(css::background_color(d[kBackground].value))
              : css::parse_color(d[kBackground].value);
      if (bg && bg->a > 0.0) s.background = over(*bg, parent.background);
    }
    if (d[kOpacity].set) {
      if (auto o = css::length_px(d[kOpacity].value, 100.0)) {
        // "50%" reads as 50 of 100 px, so a percentage is already a fraction times 100.
        double v = d[kOpacity].value.find('%') != std::string::npos ? *o / 100.0 : *o;
        s.opacity = parent.opacity * std::clamp(v, 0.0, 1.0);
      }
    }
    if (d[kVisibility].set) {
      const std::string& v = d[kVisibility].value;
      if (v == "hidden" || v == "collapse") s.visible = false;
      if (v == "visible") s.visible = true;
    }
    if (!s.gone && d[kDisplay].set && d[kDisplay].value == "none")
      s.gone = d[kDisplay].origin ? d[kDisplay].origin : "display:none";
    if (!s.gone && d[kMsoHide].set && d[kMsoHide].value == "all") s.gone = "mso-hide:all";
    if (!s.clipped) {
      bool overflow_hidden =
          d[kOverflow].set && (d[kOverflow].value.find("hidden") != std::string::npos ||
                               d[kOverflow].value.find("clip") != std::string::npos);
      if (overflow_hidden &&
          (zero_length(d[kHeight], s.font_px) || zero_length(d[kMaxHeight], s.font_px) ||
           zero_length(d[kWidth], s.font_px) || zero_length(d[kMaxWidth], s.font_px)))
        s.clipped = "a zero-size box with overflow:hidden";
      bool positioned =
          d[kPosition].set && (d[kPosition].value == "absolute" || d[kPosition].value == "fixed");
      if (far_negative(d[kTextIndent], s.font_px) ||
          (positioned && (far_negative(d[kLeft], s.font_px) || far_negative(d[kTop], s.font_px))))
        s.clipped = "text moved off-screen";
    }
    return s;
  }

  void node(const xmlNode* n, const Style& st, int depth) {
    switch (n->type) {
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (n->content) text(reinterpret_cast<const char*>(n->content), st);
        return;
      case XML_ELEMENT_NODE:
        break;
      case XML_DOCUMENT_NODE:
      case XML_HTML_DOCUMENT_NODE:
        walk(n->children, st, depth + 1);
        return;
      default:
        return;  // PIs, DTD (comments are read in walk)
    }
    if (is_skipped(n)) return;
    Style s = compute(n, st);
    if (name_is(n, "br")) {
      if (!s.gone) hard_break();
      return;
    }
    if (name_is(n, "tr")) {
      row(n, s, depth);
      return;
    }
    bool block = is_block(n) && !s.gone;
    bool pre = name_is(n, "pre");
    if (block) soft_break();
    if (pre) ++pre_;
    walk(n->children, s, depth + 1);
    if (pre) --pre_;
    if (block) soft_break();
  }

  // One table row: cells joined by " | " on one line. A row with one cell, or whose cells hold
  // a nested table (layout tables, as Outlook writes them), is rendered as ordinary blocks. A
  // cell that is not rendered (display:none) is no column.
  void row(const xmlNode* tr, const Style& st, int depth) {
    std::vector<const xmlNode*> cells;
    for (const xmlNode* c = tr->children; c != nullptr; c = c->next)
      if (c->type == XML_ELEMENT_NODE && (name_is(c, "td") || name_is(c, "th"))) cells.push_back(c);
    bool layout = cells.size() <= 1;
    for (const xmlNode* c : cells)
      if (has_descendant(c, "table")) layout = true;
    if (!st.gone) soft_break();
    if (layout || st.gone) {
      walk(tr->children, st, depth + 1);
      if (!st.gone) soft_break();
      return;
    }
    std::string line;
    bool any = false;
    bool first = true;
    for (const xmlNode* cell : cells) {
      Style cs = compute(cell, st);
      Renderer sub(ctx_);
      sub.walk(cell->children, cs, depth + 1);
      if (cs.gone) continue;
      std::string cell_text = text::collapse_spaces(sub.out);
      if (!text::trim(cell_text).empty()) any = true;
      if (!first) line += " | ";
      first = false;
      line += cell_text;
    }
    if (any) {
      out += line;
      soft_break();
    }
  }

  Context& ctx_;
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

HtmlText visible_text(std::string_view html, int comment_depth) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  HtmlText result;
  std::string clean = text::sanitize_utf8(html);  // also drops NUL bytes
  if (clean.size() > static_cast<std::size_t>(INT_MAX)) clean.resize(INT_MAX);
  if (text::trim(clean).empty()) return result;
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                      HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT;
  htmlDocPtr doc =
      htmlReadMemory(clean.data(), static_cast<int>(clean.size()), nullptr, "UTF-8", options);
  if (doc == nullptr) {
    result.text = tidy(clean);
    return result;
  }
  Context ctx;
  ctx.comment_depth = comment_depth;
  const xmlNode* root = reinterpret_cast<const xmlNode*>(doc);
  collect_styles(root->children, ctx.sheet, 0);
  for (const auto& decls : ctx.sheet.not_understood) {
    if (std::any_of(decls.begin(), decls.end(), hides)) {
      ctx.record("a <style> rule that may hide text");
      break;
    }
  }
  Renderer r(ctx);
  r.walk(root, Style{}, 0);
  xmlFreeDoc(doc);
  result.text = tidy(r.out);
  result.hidden = std::move(ctx.hidden);
  return result;
}

}  // namespace

HtmlText html_to_visible_text(std::string_view html) {
  return visible_text(html, 0);
}

std::string html_to_text(std::string_view html) {
  return visible_text(html, 0).text;
}

}  // namespace tilskudd
