// HTML body to plain text, for HTML-only mail and HTML forms.
#pragma once

#include <string>
#include <string_view>

namespace tilskudd {

// Converts HTML to UTF-8 text: block elements and <br> become line breaks, table rows become
// one line each with cells joined by " | ", entities are decoded (named, &#NN;, &#xHH;),
// <script>/<style>/<head> are dropped. Input is UTF-8. Never fails.
std::string html_to_text(std::string_view html);

}  // namespace tilskudd
