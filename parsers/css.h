// The little CSS that deciding what a mail program shows needs (parsers/html.cpp): colours,
// lengths, declaration blocks and simple style sheets. Plain scans, bounded; never throws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tilskudd::css {

struct Color {
  int r = 0, g = 0, b = 0;
  double a = 1.0;  // 0 transparent .. 1 opaque
};

// "#fff", "#ffffff", "#ffffff00", "rgb(255, 255, 255)", "rgba(0 0 0 / 0)", "hsl(0, 0%, 100%)",
// the CSS named colours people write (and Outlook's "windowtext"), "transparent". nullopt for
// anything else ("inherit", "currentcolor", a typo): the caller cannot tell the colour.
std::optional<Color> parse_color(std::string_view value);

// The first token of a `background` shorthand that is a colour; "transparent" when it has none
// (the shorthand resets the colour).
Color background_color(std::string_view shorthand);

// A length in CSS pixels. `em`, `ex`, `ch` and `%` are relative to `parent_px`; `rem` to 16 px;
// a number without a unit is pixels (quirks mode, which mail HTML without a doctype is in).
// Viewport units and calc() are nullopt.
std::optional<double> length_px(std::string_view value, double parent_px);

// A font-size value in pixels: a length or a keyword (xx-small .. xxx-large, smaller, larger).
std::optional<double> font_size_px(std::string_view value, double parent_px);

// The size a `font` shorthand sets ("bold 12px/1.5 Arial", "0/0 a"), nullopt when it names none.
std::optional<std::string> font_shorthand_size(std::string_view value);

struct Declaration {
  std::string property;  // lower case, CSS escapes decoded
  std::string value;     // lower case (ASCII), trimmed, without "!important"
  bool important = false;
};

// A declaration block ("color: red; font-size:1px !important"): comments stripped, escapes
// decoded. At most `max` declarations are kept.
std::vector<Declaration> parse_declarations(std::string_view block, std::size_t max = 256);

// One selector's subject: the last compound selector ("div.a .b#c" -> tag "", classes {"b"},
// id "c"). Combinators are not evaluated: a rule applies wherever its subject matches.
struct Subject {
  std::string tag;  // "" or "*" for any
  std::vector<std::string> classes;
  std::string id;
  int specificity = 0;  // ids*100 + classes*10 + tag
};

struct Rule {
  Subject subject;
  std::vector<Declaration> declarations;
  std::size_t order = 0;  // source order over the whole document
};

struct StyleSheet {
  std::vector<Rule> rules;
  // Rules by what their subject names (a rule is under its id, else its first class, else its
  // tag, else universal), so an element looks at the few that can match.
  std::unordered_map<std::string, std::vector<std::size_t>> by_id, by_class, by_tag;
  std::vector<std::size_t> universal;
  // Declarations of rules whose selectors are not understood (attribute selectors, structural
  // pseudo-classes...): the caller decides whether any of them could hide text.
  std::vector<std::vector<Declaration>> not_understood;
  std::size_t bytes_read = 0;
  bool truncated = false;  // the limits below were hit; the rest was not read
};

constexpr std::size_t kMaxStyleBytes = 256u << 10;  // per document, over all <style> elements
constexpr std::size_t kMaxRules = 4096;

// Adds the rules of one <style> element's text. @media, @supports and @document blocks are read
// as if they apply; other at-rules are skipped; rules for :hover, :focus, :active, :visited are
// dropped (not what a reader sees first).
void add_rules(StyleSheet& sheet, std::string_view css_text);

// The rules whose subject matches an element, in the sheet's order.
std::vector<const Rule*> matching(const StyleSheet& sheet, std::string_view tag,
                                  std::string_view id, const std::vector<std::string>& classes);

}  // namespace tilskudd::css
