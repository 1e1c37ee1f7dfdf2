// The result of reading a PDF's text. Extraction itself runs outside the daemon's process
// (daemon/pdf_sandbox.h); the parsers only see this value.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tilskudd {

enum class PdfStatus { ok, no_text, encrypted, broken, timeout, too_large };
std::string_view pdf_status_code(PdfStatus s);  // "ok", "no_text", ...

struct PdfText {
  PdfStatus status = PdfStatus::broken;
  std::string text;    // UTF-8, form feeds between pages
  std::string detail;  // short English reason when status != ok
};

struct PdfLimits {
  std::size_t max_input_bytes = 32u << 20;
  int max_pages = 50;
  std::size_t max_text_bytes = 4u << 20;
  int timeout_ms = 15000;
  std::size_t memory_bytes = 1024u << 20;  // address space of the extractor
};

using PdfExtractor = std::function<PdfText(std::string_view pdf_bytes)>;

}  // namespace tilskudd
