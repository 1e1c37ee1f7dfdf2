// Minimal PDF 1.4 files for tests: Helvetica with /WinAnsiEncoding, one Tj per text line.
#pragma once

#include <string>
#include <vector>

namespace tilskudd::testing {

// One page per element; each page's UTF-8 text is split on '\n' into lines. Characters outside
// WinAnsi become '?'. poppler's pdftotext gives the text back.
std::string make_pdf(const std::vector<std::string>& pages_of_utf8_lines);

// One page with a drawn rectangle and no text (what a scan's text layer looks like).
std::string make_pdf_without_text();

// Like make_pdf, encrypted with the standard security handler (revision 2, RC4 40-bit) and a
// non-empty user password, so it cannot be opened without it.
std::string make_encrypted_pdf(const std::vector<std::string>& pages_of_utf8_lines,
                               const std::string& user_password,
                               const std::string& owner_password = "owner");

// UTF-8 to WinAnsi (windows-1252) bytes; unknown characters become '?'.
std::string utf8_to_winansi(const std::string& utf8);

}  // namespace tilskudd::testing
