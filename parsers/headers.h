// Header field decoding that mimetic 0.9.8 does not do: RFC 2047 encoded words, RFC 2045/2231
// parameters (quotes, escapes, continuations, charsets) and address lists.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/mime.h"

namespace tilskudd::mime {

// Decodes RFC 2047 encoded words (B and Q, any charset iconv knows) to UTF-8; whitespace between
// adjacent encoded words is dropped; raw 8-bit is taken as UTF-8 or windows-1252.
std::string decode_rfc2047(std::string_view value);

struct HeaderValue {
  std::string value;                          // "multipart/mixed", lower-cased
  std::map<std::string, std::string> params;  // lower-case names; values decoded to UTF-8
};

// Parses "type/subtype; a=b; c*=utf-8''x%20y; d*0*=..; d*1=..; name=\"q;uoted\"".
// The "boundary" parameter is returned exactly as written (unquoted, never decoded).
HeaderValue parse_header_value(std::string_view raw);

// Parses an address list ("Kari Nordmann <kari@x.no>, \"Olsen, Per\" <per@y.no>, z@w.no").
std::vector<Address> parse_addresses(std::string_view raw);

// Unfolds a header value (CRLF + WSP -> WSP).
std::string unfold(std::string_view raw);

// Builds the Headers model from raw fields (name, unfolded value as written), in order.
Headers make_headers(const std::vector<std::pair<std::string, std::string>>& raw_fields);

// Message ids in a Message-ID / In-Reply-To / References value, without angle brackets.
std::vector<std::string> parse_message_ids(std::string_view raw);

}  // namespace tilskudd::mime
