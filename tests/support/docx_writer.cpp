#include "tests/support/docx_writer.h"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace tilskudd::testing {

namespace {

const char* kContentTypes =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" "
    "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" "
    "ContentType=\"application/"
    "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
    "</Types>";

const char* kRels =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" "
    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    "officeDocument\" Target=\"word/document.xml\"/>"
    "</Relationships>";

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Runs for one paragraph's text: '\t' -> w:tab, '\n' -> w:br, text in w:t with spaces kept.
std::string runs(const std::string& text) {
  std::string out = "<w:r><w:rPr><w:lang w:val=\"nb-NO\"/></w:rPr>";
  std::string chunk;
  auto flush = [&] {
    if (!chunk.empty()) out += "<w:t xml:space=\"preserve\">" + xml_escape(chunk) + "</w:t>";
    chunk.clear();
  };
  for (char c : text) {
    if (c == '\t') {
      flush();
      out += "<w:tab/>";
    } else if (c == '\n') {
      flush();
      out += "<w:br/>";
    } else {
      chunk.push_back(c);
    }
  }
  flush();
  return out + "</w:r>";
}

std::string paragraph(const std::string& text) {
  return "<w:p><w:pPr><w:pStyle w:val=\"Normal\"/></w:pPr>" + runs(text) + "</w:p>";
}

// Builds a zip in memory: `add` is called with the archive to add files.
template <typename Add>
std::string build_zip(Add add) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (!out) throw std::runtime_error("zip_source_buffer_create failed");
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  if (!za) {
    zip_source_free(out);
    throw std::runtime_error("zip_open_from_source failed");
  }
  zip_source_keep(out);
  add(za);
  if (zip_close(za) != 0) {
    std::string msg = zip_strerror(za);
    zip_discard(za);
    zip_source_free(out);
    throw std::runtime_error("zip_close failed: " + msg);
  }
  zip_error_fini(&err);
  zip_stat_t st;
  zip_stat_init(&st);
  std::string data;
  if (zip_source_stat(out, &st) == 0 && zip_source_open(out) == 0) {
    data.resize(st.size);
    zip_int64_t n = zip_source_read(out, data.data(), st.size);
    data.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    zip_source_close(out);
  }
  zip_source_free(out);
  return data;
}

void add_file(zip_t* za, const std::string& name, const std::string& content) {
  zip_source_t* s = zip_source_buffer(za, content.data(), content.size(), 0);
  if (!s || zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_UTF_8) < 0) {
    if (s) zip_source_free(s);
    throw std::runtime_error("zip_file_add failed for " + name);
  }
}

// A zip_source producing `size` '0' bytes without holding them in memory.
struct Zeros {
  std::size_t size = 0;
  std::size_t pos = 0;
  zip_error_t error;
};

zip_int64_t zeros_callback(void* userdata, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* z = static_cast<Zeros*>(userdata);
  switch (cmd) {
    case ZIP_SOURCE_OPEN:
      z->pos = 0;
      return 0;
    case ZIP_SOURCE_READ: {
      std::size_t n = std::min<std::size_t>(len, z->size - z->pos);
      std::memset(data, '0', n);
      z->pos += n;
      return static_cast<zip_int64_t>(n);
    }
    case ZIP_SOURCE_CLOSE:
      return 0;
    case ZIP_SOURCE_STAT: {
      auto* st = static_cast<zip_stat_t*>(data);
      zip_stat_init(st);
      st->size = z->size;
      st->valid |= ZIP_STAT_SIZE;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
      return zip_error_to_data(&z->error, data, len);
    case ZIP_SOURCE_FREE:
      zip_error_fini(&z->error);
      delete z;
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                            ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
      zip_error_set(&z->error, ZIP_ER_OPNOTSUPP, 0);
      return -1;
  }
}

}  // namespace

std::string document_xml(const std::vector<std::string>& paragraphs,
                         const std::vector<std::vector<std::string>>& table_rows) {
  std::string body;
  for (const auto& p : paragraphs) body += paragraph(p);
  if (!table_rows.empty()) {
    body += "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/></w:tblPr><w:tblGrid>";
    for (std::size_t i = 0; i < table_rows.front().size(); ++i) body += "<w:gridCol/>";
    body += "</w:tblGrid>";
    for (const auto& row : table_rows) {
      body += "<w:tr>";
      for (const auto& cell : row) body += "<w:tc><w:tcPr/>" + paragraph(cell) + "</w:tc>";
      body += "</w:tr>";
    }
    body += "</w:tbl><w:p/>";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<w:document "
         "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
         "xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\">"
         "<w:body>" +
         body + "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/></w:sectPr></w:body></w:document>";
}

std::string make_zip(const std::vector<std::pair<std::string, std::string>>& files) {
  return build_zip([&](zip_t* za) {
    for (const auto& [name, content] : files) add_file(za, name, content);
  });
}

std::string make_docx_raw(const std::string& xml) {
  return make_zip(
      {{"[Content_Types].xml", kContentTypes}, {"_rels/.rels", kRels}, {"word/document.xml", xml}});
}

std::string make_docx(const std::vector<std::string>& paragraphs,
                      const std::vector<std::vector<std::string>>& table_rows) {
  return make_docx_raw(document_xml(paragraphs, table_rows));
}

std::string make_zip_of_zeros(const std::string& name, std::size_t size) {
  return build_zip([&](zip_t* za) {
    auto* z = new Zeros;
    z->size = size;
    zip_error_init(&z->error);
    zip_source_t* s = zip_source_function(za, zeros_callback, z);
    if (!s) {
      zip_error_fini(&z->error);
      delete z;
      throw std::runtime_error("zip_source_function failed");
    }
    if (zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_UTF_8) < 0) {
      zip_source_free(s);
      throw std::runtime_error("zip_file_add failed for " + name);
    }
    zip_set_file_compression(za, 0, ZIP_CM_DEFLATE, 9);
  });
}

}  // namespace tilskudd::testing
