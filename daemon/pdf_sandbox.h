// PDF text extraction in a child process (poppler's pdftotext) under a timeout and rlimits, so
// a hostile or broken PDF cannot crash or hang the process that handles the mailbox.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "parsers/pdf.h"

namespace tilskudd {

// Runs `pdftotext -q -enc UTF-8 -layout -l <max_pages> - -` on the bytes. Safe to call from any
// thread of a multi-threaded process; never raises SIGPIPE; always reaps the child.
PdfText extract_pdf_text_sandboxed(std::string_view pdf_bytes, const PdfLimits& limits = {});

// The same with an explicit pdftotext path ("" or a missing file: status broken,
// "pdftotext not installed").
PdfText extract_pdf_text_with(const std::string& pdftotext_path, std::string_view pdf_bytes,
                              const PdfLimits& limits = {});

// pdftotext's path: the first executable `pdftotext` on PATH, else /usr/bin/pdftotext when it
// exists, else "".
std::string find_pdftotext();

// The sandbox itself: runs `argv` (argv[0] is the program's absolute path) with `input` on its
// stdin and its stdout as the text, under `limits` (timeout, output cap, rlimits). No input
// checks (size, %PDF header) are done here. Exit status 0 -> ok / no_text; 3, or 1 with
// "password" in stderr -> encrypted; killed by the timeout or SIGXCPU -> timeout; output over
// max_text_bytes -> too_large; anything else -> broken. Exposed for tests (fake extractors).
PdfText run_pdf_extractor(const std::vector<std::string>& argv, std::string_view input,
                          const PdfLimits& limits);

}  // namespace tilskudd
