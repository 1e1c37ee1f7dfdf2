#include "parsers/candidate.h"

#include "parsers/case_number.h"
#include "parsers/case_ref.h"
#include "parsers/headers.h"
#include "parsers/mime.h"
#include "parsers/text.h"

namespace tilskudd {

namespace {

// The grant's own words, as the server's search looks for them (daemon/imap_source.cpp).
bool names_the_grant(std::string_view text) {
  const std::string lower = text::to_lower(text);
  return lower.find("tilretteleggingstilskudd") != std::string::npos ||
         lower.find("tilretteleggingsmidler") != std::string::npos;
}

// A file name parameter decoded to UTF-8: RFC 2231 (name*=charset''percent-encoded) through the
// header parser, RFC 2047 (=?utf-8?...?=) directly.
std::string decode_name(const std::string& key, const std::string& value) {
  if (key.find('*') != std::string::npos) {
    const mime::HeaderValue v = mime::parse_header_value("attachment; x*=" + value);
    if (auto it = v.params.find("x"); it != v.params.end()) return it->second;
    return value;
  }
  return mime::decode_rfc2047(value);
}

}  // namespace

std::string may_be_ours(std::string_view header_fields,
                        const std::vector<std::pair<std::string, std::string>>& file_params,
                        std::string_view case_number) {
  const mime::Headers h = mime::parse(header_fields).headers;
  if (find_case_number(h.subject, case_number).found) return "the case number in the subject";
  if (find_case_ref(h.subject)) return "a case reference in the subject";
  if (find_case_ref_in_message_id(h.in_reply_to)) return "a reply to one of our letters";
  for (const auto& r : h.references)
    if (find_case_ref_in_message_id(r)) return "a reply to one of our letters";
  if (names_the_grant(h.subject)) return "the grant's name in the subject";
  for (const auto& [key, value] : file_params) {
    const std::string name = decode_name(key, value);
    if (find_case_number(name, case_number).found) return "the case number in an attachment's name";
    if (names_the_grant(name)) return "the grant's name in an attachment's name";
  }
  return "";
}

}  // namespace tilskudd
