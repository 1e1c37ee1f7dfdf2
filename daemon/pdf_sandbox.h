// PDF text extraction in a child process (poppler's pdftotext) under a timeout and rlimits, so
// a hostile or broken PDF cannot crash or hang the process that handles the mailbox.
#pragma once

#include <string_view>

#include "parsers/pdf.h"

namespace tilskudd {

PdfText extract_pdf_text_sandboxed(std::string_view pdf_bytes, const PdfLimits& limits = {});

}  // namespace tilskudd
