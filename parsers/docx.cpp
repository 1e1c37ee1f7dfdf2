#include "parsers/docx.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <zip.h>

#include <climits>
#include <cstring>
#include <memory>
#include <vector>

#include "parsers/text.h"

namespace tilskudd {

namespace {

constexpr const char* kDocumentPart = "word/document.xml";

DocxText failure(std::string error) {
  DocxText t;
  t.error = std::move(error);
  return t;
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

// libxml2 prints parse errors to stderr by default. Its error handlers are per thread, so we
// install no-op ones for the duration of one parse on the calling thread and restore them.
void ignore_structured(void*, xmlErrorPtr) {}
void ignore_generic(void*, const char*, ...) {}

class QuietXmlErrors {
 public:
  QuietXmlErrors()
      : structured_(xmlStructuredError),
        structured_ctx_(xmlStructuredErrorContext),
        generic_(xmlGenericError),
        generic_ctx_(xmlGenericErrorContext) {
    xmlSetStructuredErrorFunc(nullptr, ignore_structured);
    xmlSetGenericErrorFunc(nullptr, ignore_generic);
  }
  ~QuietXmlErrors() {
    xmlSetStructuredErrorFunc(structured_ctx_, structured_);
    xmlSetGenericErrorFunc(generic_ctx_, generic_);
  }
  QuietXmlErrors(const QuietXmlErrors&) = delete;
  QuietXmlErrors& operator=(const QuietXmlErrors&) = delete;

 private:
  xmlStructuredErrorFunc structured_;
  void* structured_ctx_;
  xmlGenericErrorFunc generic_;
  void* generic_ctx_;
};

bool is(const xmlNode* n, const char* local_name) {
  return n->type == XML_ELEMENT_NODE &&
         std::strcmp(reinterpret_cast<const char*>(n->name), local_name) == 0;
}

// Word writes text boxes twice: the DrawingML version (mc:Choice) and a VML fallback. Reading
// both would repeat the text.
bool is_fallback(const xmlNode* n) {
  return is(n, "Fallback") && n->ns && n->ns->href &&
         std::strstr(reinterpret_cast<const char*>(n->ns->href), "markup-compatibility");
}

class Walker {
 public:
  std::string out;

  void body(const xmlNode* parent) {
    for (const xmlNode* n = parent->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;  // entity references are never followed
      if (is(n, "p")) {
        std::string line;
        runs(n, line);
        emit(line);
      } else if (is(n, "tbl")) {
        table(n);
      } else if (!is_fallback(n)) {
        body(n);  // w:body, w:sdt, w:sdtContent, w:customXml, ...
      }
    }
  }

 private:
  void emit(const std::string& line) {
    out += line;
    out += '\n';
  }

  // The text of a paragraph's runs: w:t, w:tab, w:br/w:cr, hyphens.
  void runs(const xmlNode* parent, std::string& line) {
    for (const xmlNode* n = parent->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      if (is(n, "t")) {
        for (const xmlNode* c = n->children; c; c = c->next) {
          if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            line += reinterpret_cast<const char*>(c->content);
          }
        }
      } else if (is(n, "tab") || is(n, "ptab")) {
        line += '\t';
      } else if (is(n, "br") || is(n, "cr")) {
        line += '\n';
      } else if (is(n, "noBreakHyphen") || is(n, "softHyphen")) {
        if (is(n, "noBreakHyphen")) line += '-';
      } else if (is(n, "p")) {
        // A paragraph nested in a text box inside this paragraph.
        if (!line.empty() && line.back() != '\n') line += '\n';
        runs(n, line);
      } else if (is(n, "tbl")) {
        if (!line.empty() && line.back() != '\n') line += '\n';
        Walker inner;
        inner.table(n);
        line += inner.out;
      } else if (!is_fallback(n) && !is(n, "pPr") && !is(n, "rPr") && !is(n, "instrText") &&
                 !is(n, "delText")) {
        runs(n, line);  // w:r, w:hyperlink, w:smartTag, w:ins, w:fldSimple, drawings, ...
      }
    }
  }

  // One line per row, cells joined by " | "; a cell's paragraphs joined by spaces.
  void table(const xmlNode* tbl) {
    for (const xmlNode* n = tbl->children; n; n = n->next) {
      if (is(n, "tr")) {
        std::string row;
        bool first = true;
        cells(n, row, first);
        emit(row);
      } else if (n->type == XML_ELEMENT_NODE && !is(n, "tblPr") && !is(n, "tblGrid")) {
        table(n);  // rows wrapped in w:sdt / w:customXml
      }
    }
  }

  void cells(const xmlNode* tr, std::string& row, bool& first) {
    for (const xmlNode* n = tr->children; n; n = n->next) {
      if (is(n, "tc")) {
        std::string cell;
        runs(n, cell);
        for (auto& c : cell) {
          if (c == '\n' || c == '\t') c = ' ';
        }
        if (!first) row += " | ";
        first = false;
        row += text::collapse_spaces(cell);
      } else if (n->type == XML_ELEMENT_NODE && !is(n, "trPr") && !is(n, "tblPrEx")) {
        cells(n, row, first);
      }
    }
  }
};

}  // namespace

DocxText extract_docx_text(std::string_view bytes, std::size_t max_uncompressed) {
  if (bytes.size() < 4 || bytes.substr(0, 2) != "PK") return failure("not a zip archive");

  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &zerr);
  if (!src) {
    zip_error_fini(&zerr);
    return failure("not a zip archive");
  }
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(src, ZIP_RDONLY, &zerr));
  zip_error_fini(&zerr);
  if (!archive) {
    zip_source_free(src);
    return failure("not a zip archive");
  }

  zip_int64_t index = zip_name_locate(archive.get(), kDocumentPart, 0);
  if (index < 0) return failure("no word/document.xml in the archive");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0) {
    return failure("cannot read word/document.xml");
  }
  if ((st.valid & ZIP_STAT_SIZE) && st.size > max_uncompressed) {
    return failure("word/document.xml too large");
  }
  std::unique_ptr<zip_file_t, ZipFileCloser> file(
      zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(index), 0));
  if (!file) return failure("cannot read word/document.xml");

  // Read at most max_uncompressed + 1 bytes whatever the header says (it may lie).
  std::string xml;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    zip_int64_t n = zip_fread(file.get(), buf.data(), buf.size());
    if (n < 0) return failure("word/document.xml is corrupt");
    if (n == 0) break;
    xml.append(buf.data(), static_cast<std::size_t>(n));
    if (xml.size() > max_uncompressed) return failure("word/document.xml too large");
  }
  file.reset();
  archive.reset();
  if (xml.size() > static_cast<std::size_t>(INT_MAX)) return failure("word/document.xml too large");

  QuietXmlErrors quiet;
  // No NOENT (no entity substitution), no DTDLOAD/DTDATTR (no external subset), NONET.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  std::unique_ptr<xmlDoc, XmlDocFree> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "document.xml", nullptr, options));
  if (!doc) return failure("word/document.xml is not well-formed XML");
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !is(root, "document")) return failure("word/document.xml is not a Word document");

  Walker w;
  w.body(root);
  DocxText t;
  t.ok = true;
  t.text = text::sanitize_utf8(w.out);
  return t;
}

}  // namespace tilskudd
