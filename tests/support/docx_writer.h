// Real DOCX files for tests, written with libzip into memory (no LibreOffice).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace tilskudd::testing {

// A DOCX with one w:p per paragraph (a '\t' becomes w:tab, a '\n' w:br) and, when `table_rows`
// is not empty, a table after them (one w:tr per row, one w:tc per cell).
std::string make_docx(const std::vector<std::string>& paragraphs,
                      const std::vector<std::vector<std::string>>& table_rows = {});

// A DOCX whose word/document.xml is exactly `document_xml` (malformed XML, XXE attempts).
std::string make_docx_raw(const std::string& document_xml);

// A zip archive holding the given files (name, content), deflated.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& files);

// A zip whose `name` holds `size` bytes of '0' characters, generated in chunks while
// compressing (a zip bomb: 200 MB deflate to about 200 KB).
std::string make_zip_of_zeros(const std::string& name, std::size_t size);

// The WordprocessingML document for make_docx (exposed to build variants).
std::string document_xml(const std::vector<std::string>& paragraphs,
                         const std::vector<std::vector<std::string>>& table_rows = {});

}  // namespace tilskudd::testing
