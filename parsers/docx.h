// Text of a DOCX (Office Open XML) attachment, safely: bounded decompression (zip bombs),
// no network or entity expansion in the XML parser.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tilskudd {

struct DocxText {
  bool ok = false;
  std::string text;   // paragraphs as lines; table rows as lines with cells joined by " | "
  std::string error;  // why not, when !ok ("not a zip archive", "word/document.xml too large")
};

DocxText extract_docx_text(std::string_view bytes, std::size_t max_uncompressed = 32u << 20);

}  // namespace tilskudd
