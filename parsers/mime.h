// One normalised model of an email message, built with mimetic for structure and transfer
// decoding and our own code for what Debian's mimetic 0.9.8 lacks (RFC 2047, RFC 2231, quoted
// parameters, the base64 decoder bug). Pure: bytes in, values out; never throws on bad input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilskudd::mime {

struct Limits {
  std::size_t max_message_bytes = 64u << 20;  // larger input is truncated and reported
  std::size_t max_parts = 1000;               // leaf parts kept; the rest reported
  int max_depth = 20;                         // multipart / message nesting
  std::size_t max_header_bytes = 256u << 10;  // per message header block
};

struct Address {
  std::string display_name;  // decoded, UTF-8
  std::string address;       // "local@domain", domain lower-cased; "" when unparseable
};

struct Headers {
  // Every header field in order: name as written, value RFC 2047-decoded to UTF-8 and unfolded.
  std::vector<std::pair<std::string, std::string>> fields;

  std::string subject;
  std::string message_id;               // without angle brackets
  std::string in_reply_to;              // without angle brackets (first id)
  std::vector<std::string> references;  // without angle brackets
  std::string date;                     // raw Date: value
  std::vector<Address> from;            // every mailbox of every From field (normally exactly one)
  std::vector<Address> to;
  std::vector<Address> reply_to;
  bool has_return_path = false;
  std::string return_path;  // inside the angle brackets; "" for the null path <>

  // First field with this name (case-insensitive), decoded; "" when absent.
  std::string get(std::string_view name) const;
  bool has(std::string_view name) const;
};

struct Part {
  std::string content_type;  // lower-case "type/subtype"; "text/plain" when absent
  std::string charset;       // lower-case as declared; "" when none
  std::string disposition;   // lower-case "attachment" / "inline" / ""
  std::string filename;      // UTF-8 from filename*= / filename= / name= (RFC 2231 / 2047)
  std::string content_id;
  std::string body;    // transfer-decoded; for text/* converted to UTF-8 (CRLF -> LF)
  int depth = 0;       // 0 for the top-level entity
  int forwarded = -1;  // index into Message::forwarded when inside message/rfc822, else -1

  bool is_text() const { return content_type.rfind("text/", 0) == 0; }
  // Disposition attachment, or a filename on any part, or a non-text, non-multipart part.
  bool is_attachment() const;
};

struct Forwarded {
  Headers headers;
  std::string text;                 // its readable body text (as Message::text)
  std::vector<std::string> hidden;  // as Message::hidden, for its body
};

struct Message {
  Headers headers;
  std::vector<Part> parts;           // every leaf, depth-first, document order (forwarded ones too)
  std::vector<Forwarded> forwarded;  // message/rfc822 parts, outermost first
  // The readable body of the top-level message: in multipart/alternative text/plain is preferred,
  // an HTML-only body is converted to text (tables into rows with " | " between cells).
  // Text of forwarded messages and of attachments is not included. HTML text a mail program
  // would not show is left out (parsers/html.h).
  std::string text;
  // The same body as a mail program shows it: in multipart/alternative the last HTML alternative
  // with text (RFC 2046: the last is the preferred one), else the text/plain one. Equal to
  // `text` unless the body has an alternative with both (DECISIONS.md "Alternatives").
  std::string shown_text;
  // How HTML in the body hid text from the reader (HtmlText::hidden: "display:none", ...), each
  // once; HTML attachments and forwarded messages are not included. Empty when nothing was.
  std::vector<std::string> hidden;
  // Human-readable descriptions of structural problems (missing boundary, bad base64, limits
  // hit...). Empty for a clean message.
  std::vector<std::string> defects;
};

Message parse(std::string_view raw, const Limits& limits = {});

// Forgiving base64: characters outside the alphabet are skipped, decoding stops at '='.
// `skipped` (optional) receives the number of non-whitespace characters that were skipped plus
// one for an incomplete final group.
std::string decode_base64(std::string_view in, std::size_t* skipped = nullptr);

// Quoted-printable (RFC 2045 6.7): soft line breaks, =XX in either case; invalid escapes are kept
// literally; trailing white space before a line break is dropped.
std::string decode_quoted_printable(std::string_view in);

}  // namespace tilskudd::mime
