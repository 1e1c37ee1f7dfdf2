#include "parsers/pdf.h"

namespace tilskudd {

std::string_view pdf_status_code(PdfStatus s) {
  switch (s) {
    case PdfStatus::ok:
      return "ok";
    case PdfStatus::no_text:
      return "no_text";
    case PdfStatus::encrypted:
      return "encrypted";
    case PdfStatus::broken:
      return "broken";
    case PdfStatus::timeout:
      return "timeout";
    case PdfStatus::too_large:
      return "too_large";
  }
  return "broken";
}

}  // namespace tilskudd
