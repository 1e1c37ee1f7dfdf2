// IMAP4rev1 (RFC 3501) wire format, client side, without I/O: an incremental response parser
// and helpers to build commands (quoting, UID sets, modified UTF-7 mailbox names).
//
// ResponseParser is fed bytes as they arrive from the socket, in chunks of any size, and yields
// complete responses: tagged status responses, untagged data/status responses and "+"
// continuation requests. Literals ({n} and {n+}) are handled across chunk boundaries and are
// byte-exact; a literal's bytes are copied exactly once, from the fed chunk into the string that
// the caller finally receives (by move). Memory is bounded by ParserLimits: a line of non-literal
// data longer than max_line_bytes, a literal larger than max_literal_bytes, a response larger
// than max_response_bytes, or lists nested deeper than max_depth stop the parser with an error.
// Any syntax error is sticky (failed() stays true): the connection is then in an unknown state
// and must be dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilskudd::imap {

struct ParserLimits {
  std::size_t max_line_bytes = 1u << 20;       // non-literal bytes of one response
  std::size_t max_literal_bytes = 64u << 20;   // one literal (a whole message for BODY[])
  std::size_t max_response_bytes = 80u << 20;  // everything in one response
  std::size_t max_depth = 64;                  // nested parenthesised lists
};

// One item of response data.
struct Value {
  enum class Kind { atom, number, string, nil, list };
  Kind kind = Kind::atom;
  std::string text;          // atom (as sent, e.g. "\\Seen", "BODY[]"), string (unescaped)
  std::uint64_t number = 0;  // number
  std::vector<Value> items;  // list

  bool is_atom(std::string_view upper_name) const;  // case-insensitive atom comparison
};

enum class Status { ok, no, bad, preauth, bye };

struct ResponseCode {
  std::string name;         // upper-cased: "UIDVALIDITY", "PERMANENTFLAGS", "COPYUID", ...
  std::vector<Value> args;  // parsed arguments; empty when they could not be parsed
  std::string raw;          // the text between the name and ']'
};

struct Response {
  enum class Type { tagged, untagged, continuation };
  Type type = Type::untagged;
  std::string tag;                      // tagged only
  std::optional<Status> status;         // status responses (OK/NO/BAD/PREAUTH/BYE)
  std::optional<ResponseCode> code;     // "[...]" of a status response
  std::string text;                     // human text of status responses and continuations
  std::string keyword;                  // untagged data, upper-cased: EXISTS, FETCH, SEARCH, ...
  std::optional<std::uint64_t> number;  // "* <n> EXISTS|EXPUNGE|RECENT|FETCH"
  std::vector<Value> data;              // untagged data after the keyword
};

class ResponseParser {
 public:
  explicit ResponseParser(ParserLimits limits = {});

  // Consumes all of `bytes`. Returns false when the parser has failed (now or before).
  bool feed(std::string_view bytes);

  bool has_response() const { return !ready_.empty(); }
  // The oldest complete response. Precondition: has_response().
  Response pop();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  struct Segment {
    bool literal = false;
    std::string bytes;
  };
  void fail(std::string message);
  void end_of_line();
  void finish_response();

  ParserLimits limits_;
  std::vector<Segment> segments_;  // the response being read: text, literal, text, ...
  std::size_t line_bytes_ = 0;     // non-literal bytes so far in this response
  std::size_t response_bytes_ = 0;
  std::size_t literal_left_ = 0;  // > 0 while reading a literal
  std::deque<Response> ready_;
  std::string error_;
};

// --- typed views of responses ---

// What a BODYSTRUCTURE says that matters for judging a message without its content: the
// attachments' names (as sent: RFC 2047 or RFC 2231 encoded), and how many parts are not text.
struct BodyOutline {
  // ("NAME" | "FILENAME" | "NAME*" | "FILENAME*" ..., value as sent), upper-cased names.
  std::vector<std::pair<std::string, std::string>> filenames;
  std::size_t parts = 0;           // leaf parts
  std::size_t non_text_parts = 0;  // leaf parts whose type is not text/*
};
BodyOutline outline_bodystructure(const Value& v);

struct FetchData {
  std::uint64_t seq = 0;
  std::optional<std::uint32_t> uid;
  std::optional<std::vector<std::string>> flags;
  std::optional<std::uint64_t> rfc822_size;
  std::optional<std::string> internaldate;
  std::optional<std::string> body;           // BODY[] / BODY.PEEK[] answered as BODY[]
  std::optional<std::string> header;         // BODY[HEADER] / BODY.PEEK[HEADER]
  std::optional<std::string> header_fields;  // BODY[HEADER.FIELDS (...)]
  std::optional<BodyOutline> structure;      // BODYSTRUCTURE, summarised
};
// "* n FETCH (...)": moves BODY[] out of `r`. nullopt if `r` is not a well-formed FETCH.
std::optional<FetchData> take_fetch(Response& r);

// "* SEARCH n n ..." (a trailing "(MODSEQ n)" is ignored).
std::optional<std::vector<std::uint32_t>> search_result(const Response& r);

struct StatusData {
  std::string mailbox;  // as sent (modified UTF-7)
  std::optional<std::uint64_t> messages, recent, uidnext, uidvalidity, unseen;
};
std::optional<StatusData> status_result(const Response& r);

// "* CAPABILITY ..." or a "[CAPABILITY ...]" response code: the capabilities, upper-cased.
std::optional<std::vector<std::string>> capabilities(const Response& r);

// "* FLAGS (...)" or "[PERMANENTFLAGS (...)]": the flags as sent.
std::optional<std::vector<std::string>> flags_result(const Response& r);

// The numeric argument of a response code such as UIDVALIDITY, UIDNEXT, UNSEEN.
std::optional<std::uint64_t> code_number(const Response& r, std::string_view code_name);

// --- building commands ---

// `s` as an IMAP quoted string, or nullopt when it must be sent as a literal (CR, LF, NUL, or
// 8-bit bytes unless allow_8bit; some servers accept raw UTF-8 in quoted strings).
std::optional<std::string> quote(std::string_view s, bool allow_8bit = false);

// Sorted, de-duplicated, compressed UID set: {1,2,3,4,5,7,9} -> "1:5,7,9". Empty -> "".
std::string format_uid_set(std::vector<std::uint32_t> uids);
// "first:last", or "first:*" when last is nullopt; "n" when first == last.
std::string format_uid_range(std::uint32_t first, std::optional<std::uint32_t> last);

// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): "Søknader" <-> "S&APg-knader".
// Encoding expects valid UTF-8 (nullopt otherwise); decoding returns nullopt on invalid input.
std::optional<std::string> encode_mailbox_name(std::string_view utf8);
std::optional<std::string> decode_mailbox_name(std::string_view mutf7);

}  // namespace tilskudd::imap
