// HTML body to plain text, for HTML-only mail and HTML forms: only the text a mail program would
// show (DECISIONS.md "Hidden text").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tilskudd {

struct HtmlText {
  std::string text;  // the visible text, as html_to_text returns it
  // How text that a reader would not see was hidden ("display:none", "font-size under 4px",
  // "text in the background colour", ...), each once, in the order found; empty when nothing
  // but white space, invisible padding characters or punctuation was hidden. The hidden text
  // itself is not in `text` and not kept.
  std::vector<std::string> hidden;
};

// Converts HTML to UTF-8 text: block elements and <br> become line breaks, table rows become
// one line each with cells joined by " | ", entities are decoded (named, &#NN;, &#xHH;),
// <script>/<style>/<head> are dropped. Text a mail program would not show (display:none,
// visibility:hidden, the hidden attribute, mso-hide:all, font-size under 4px, opacity near 0,
// text in the colour of its background, zero-height boxes with overflow:hidden, text moved far
// off-screen, Outlook-only conditional comments), by inline styles, presentational attributes and
// the document's own simple <style> rules, is left out and named in `hidden`. Input is UTF-8.
// Bounded work (plain scans, bounded nesting and rule counts); never fails.
HtmlText html_to_visible_text(std::string_view html);

// html_to_visible_text(html).text.
std::string html_to_text(std::string_view html);

}  // namespace tilskudd
