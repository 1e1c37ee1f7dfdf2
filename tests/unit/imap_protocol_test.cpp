#include "daemon/imap_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace tilskudd::imap;

namespace {

std::vector<Response> parse_all(std::string_view bytes, ParserLimits limits = {}) {
  ResponseParser p(limits);
  EXPECT_TRUE(p.feed(bytes)) << p.error();
  std::vector<Response> out;
  while (p.has_response()) out.push_back(p.pop());
  return out;
}

Response parse_one(std::string_view bytes) {
  auto all = parse_all(bytes);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? Response{} : std::move(all[0]);
}

std::string fails_with(std::string_view bytes, ParserLimits limits = {}) {
  ResponseParser p(limits);
  const bool ok = p.feed(bytes);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(p.failed());
  return p.error();
}

// The body contains what looks like a literal and a CRLF: only the {39} counts.
const std::string kBody = "Subject: S\xc3\xb8knad 20/30298\r\n\r\nA {3}\r\nb\r\n";
const std::string kFetchSample =
    "* 12 FETCH (UID 4711 FLAGS (\\Seen $Tilskudd) RFC822.SIZE 39 INTERNALDATE "
    "\"24-Nov-2026 11:36:40 +0000\" BODY[] {39}\r\n" +
    kBody + ")\r\nT7 OK Fetch completed.\r\n";

}  // namespace

TEST(ImapResponse, TaggedOkWithResponseCodeAndText) {
  auto r = parse_one("T1 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n");
  EXPECT_EQ(r.type, Response::Type::tagged);
  EXPECT_EQ(r.tag, "T1");
  EXPECT_EQ(r.status, Status::ok);
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "READ-WRITE");
  EXPECT_EQ(r.text, "Select completed (0.001 + 0.000 secs).");
}

TEST(ImapResponse, TaggedNoAndBadKeepServerText) {
  auto all = parse_all(
      "T2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\nT3 BAD Error in IMAP "
      "command: Unknown command.\r\n");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status, Status::no);
  EXPECT_EQ(all[0].code->name, "AUTHENTICATIONFAILED");
  EXPECT_EQ(all[0].text, "Authentication failed.");
  EXPECT_EQ(all[1].status, Status::bad);
  EXPECT_FALSE(all[1].code);
  EXPECT_EQ(all[1].text, "Error in IMAP command: Unknown command.");
}

TEST(ImapResponse, ExistsExpungeRecent) {
  auto all = parse_all("* 23 EXISTS\r\n* 5 EXPUNGE\r\n* 0 RECENT\r\n");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].keyword, "EXISTS");
  EXPECT_EQ(all[0].number, 23u);
  EXPECT_EQ(all[1].keyword, "EXPUNGE");
  EXPECT_EQ(all[1].number, 5u);
  EXPECT_EQ(all[2].keyword, "RECENT");
  EXPECT_EQ(all[2].number, 0u);
}

TEST(ImapResponse, SearchNumbersAndEmptySearch) {
  auto r = parse_one("* SEARCH 2 84 882\r\n");
  EXPECT_EQ(search_result(r), (std::vector<std::uint32_t>{2, 84, 882}));
  auto e = parse_one("* SEARCH\r\n");
  EXPECT_EQ(search_result(e), std::vector<std::uint32_t>{});
  auto m = parse_one("* SEARCH 3 4 (MODSEQ 917162500)\r\n");
  EXPECT_EQ(search_result(m), (std::vector<std::uint32_t>{3, 4}));
  EXPECT_FALSE(search_result(parse_one("* SEARCH 1 x\r\n")));
  EXPECT_FALSE(search_result(parse_one("* SEARCH 99999999999\r\n")));
}

TEST(ImapResponse, LongSearchLineUnderTheLimitIsComplete) {
  std::string line = "* SEARCH";
  for (int i = 1; i <= 100000; ++i) line += " " + std::to_string(i);
  line += "\r\n";
  auto r = parse_one(line);
  auto uids = search_result(r);
  ASSERT_TRUE(uids);
  ASSERT_EQ(uids->size(), 100000u);
  EXPECT_EQ(uids->back(), 100000u);
}

TEST(ImapResponse, StatusWithQuotedAndModifiedUtf7Mailbox) {
  auto r = parse_one(
      "* STATUS \"S&APg-knader\" (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1795511176 "
      "UNSEEN 3)\r\n");
  auto s = status_result(r);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->mailbox, "S&APg-knader");
  EXPECT_EQ(decode_mailbox_name(s->mailbox), "S\xc3\xb8knader");
  EXPECT_EQ(s->messages, 231u);
  EXPECT_EQ(s->uidnext, 44292u);
  EXPECT_EQ(s->uidvalidity, 1795511176u);
  EXPECT_EQ(s->unseen, 3u);
  EXPECT_FALSE(s->recent);
  auto atom = status_result(parse_one("* STATUS INBOX (MESSAGES 0)\r\n"));
  ASSERT_TRUE(atom);
  EXPECT_EQ(atom->mailbox, "INBOX");
}

TEST(ImapResponse, CapabilityUntaggedAndAsResponseCode) {
  auto r = parse_one("* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ IDLE MOVE AUTH=PLAIN\r\n");
  auto caps = capabilities(r);
  ASSERT_TRUE(caps);
  EXPECT_EQ(*caps, (std::vector<std::string>{"IMAP4REV1", "SASL-IR", "LITERAL+", "IDLE", "MOVE",
                                             "AUTH=PLAIN"}));
  auto ok = parse_one("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n");
  EXPECT_EQ(ok.status, Status::ok);
  auto caps2 = capabilities(ok);
  ASSERT_TRUE(caps2);
  EXPECT_EQ(caps2->size(), 3u);
  EXPECT_EQ(ok.text, "Dovecot ready.");
}

TEST(ImapResponse, SelectResponseCodes) {
  auto all = parse_all(
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Tilskudd)\r\n"
      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Tilskudd \\*)] Flags "
      "permitted.\r\n"
      "* 3 EXISTS\r\n"
      "* OK [UIDVALIDITY 1795511176] UIDs valid\r\n"
      "* OK [UIDNEXT 4] Predicted next UID\r\n"
      "T2 OK [READ-ONLY] Examine completed.\r\n");
  ASSERT_EQ(all.size(), 6u);
  auto flags = flags_result(all[0]);
  ASSERT_TRUE(flags);
  EXPECT_EQ(flags->size(), 6u);
  EXPECT_EQ((*flags)[3], "\\Seen");
  auto perm = flags_result(all[1]);
  ASSERT_TRUE(perm);
  EXPECT_EQ(perm->back(), "\\*");
  EXPECT_EQ(all[2].number, 3u);
  EXPECT_EQ(code_number(all[3], "UIDVALIDITY"), 1795511176u);
  EXPECT_EQ(code_number(all[4], "UIDNEXT"), 4u);
  EXPECT_FALSE(code_number(all[4], "UIDVALIDITY"));
  EXPECT_EQ(all[5].code->name, "READ-ONLY");
}

TEST(ImapResponse, CopyuidCodeArguments) {
  auto r = parse_one("T5 OK [COPYUID 38505 304,319:320 3956:3958] Moved UIDs.\r\n");
  ASSERT_TRUE(r.code);
  EXPECT_EQ(r.code->name, "COPYUID");
  ASSERT_EQ(r.code->args.size(), 3u);
  EXPECT_EQ(r.code->args[1].text, "304,319:320");
  EXPECT_EQ(r.code->raw, "38505 304,319:320 3956:3958");
}

TEST(ImapResponse, FetchMetaAndBodyLiteral) {
  auto all = parse_all(kFetchSample);
  ASSERT_EQ(all.size(), 2u);
  auto f = take_fetch(all[0]);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->seq, 12u);
  EXPECT_EQ(f->uid, 4711u);
  EXPECT_EQ(f->flags, (std::vector<std::string>{"\\Seen", "$Tilskudd"}));
  EXPECT_EQ(f->rfc822_size, 39u);
  ASSERT_EQ(kBody.size(), 39u);
  EXPECT_EQ(f->internaldate, "24-Nov-2026 11:36:40 +0000");
  EXPECT_EQ(f->body, "Subject: S\xc3\xb8knad 20/30298\r\n\r\nA {3}\r\nb\r\n");
  EXPECT_EQ(all[1].tag, "T7");
}

TEST(ImapResponse, FetchHeaderOnlyIsTheHeaderNotTheBody) {
  auto r =
      parse_one("* 3 FETCH (UID 9 BODY[HEADER] {28}\r\nSubject: x\r\nFrom: a@b.no\r\n\r\n)\r\n");
  auto f = take_fetch(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->uid, 9u);
  EXPECT_EQ(f->header, "Subject: x\r\nFrom: a@b.no\r\n\r\n");
  EXPECT_FALSE(f->body);
}

TEST(ImapResponse, FetchLiteralSplitAtEveryByteBoundary) {
  for (std::size_t cut = 0; cut <= kFetchSample.size(); ++cut) {
    ResponseParser p;
    ASSERT_TRUE(p.feed(std::string_view(kFetchSample).substr(0, cut))) << cut;
    ASSERT_TRUE(p.feed(std::string_view(kFetchSample).substr(cut))) << cut;
    ASSERT_TRUE(p.has_response()) << cut;
    Response r = p.pop();
    auto f = take_fetch(r);
    ASSERT_TRUE(f) << cut;
    EXPECT_EQ(f->body, "Subject: S\xc3\xb8knad 20/30298\r\n\r\nA {3}\r\nb\r\n") << cut;
    ASSERT_TRUE(p.has_response()) << cut;
    EXPECT_EQ(p.pop().tag, "T7");
    EXPECT_FALSE(p.has_response());
  }
}

TEST(ImapResponse, FetchFedOneByteAtATime) {
  ResponseParser p;
  for (char c : kFetchSample) ASSERT_TRUE(p.feed(std::string_view(&c, 1)));
  Response r = p.pop();
  EXPECT_EQ(take_fetch(r)->uid, 4711u);
}

TEST(ImapResponse, BinaryLiteralIsByteExact) {
  std::string body;
  for (int i = 0; i < 256; ++i) body.push_back(static_cast<char>(i));
  body += "\r\n)\r\nT9 OK\r\n* 3 EXISTS\r\n";
  std::string wire = "* 1 FETCH (UID 1 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
                     ")\r\nT9 OK done\r\n";
  auto all = parse_all(wire);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(take_fetch(all[0])->body, body);
}

TEST(ImapResponse, NonSynchronizingAndEmptyLiterals) {
  auto all = parse_all(
      "* LIST (\\HasNoChildren) \"/\" {4+}\r\nS\xc3\xb8k\r\n* STATUS {0}\r\n "
      "(MESSAGES 1)\r\n");
  ASSERT_EQ(all.size(), 2u);
  ASSERT_EQ(all[0].data.size(), 3u);
  EXPECT_EQ(all[0].data[2].text, "S\xc3\xb8k");
  EXPECT_EQ(status_result(all[1])->mailbox, "");
}

TEST(ImapResponse, LargeLiteralIsReadInChunks) {
  const std::size_t n = 3u << 20;
  std::string wire = "* 1 FETCH (UID 7 BODY[] {" + std::to_string(n) + "}\r\n";
  ResponseParser p;
  ASSERT_TRUE(p.feed(wire));
  std::string chunk(65536, 'x');
  for (std::size_t sent = 0; sent < n; sent += chunk.size()) ASSERT_TRUE(p.feed(chunk));
  ASSERT_TRUE(p.feed(")\r\n"));
  Response r = p.pop();
  auto f = take_fetch(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->body->size(), n);
}

TEST(ImapResponse, QuotedStringEscapesAndNil) {
  auto all = parse_all("* LIST () \"/\" \"a \\\"q\\\" \\\\ b\"\r\n* LIST () NIL INBOX\r\n");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].data[2].text, "a \"q\" \\ b");
  EXPECT_EQ(all[1].data[1].kind, Value::Kind::nil);
}

TEST(ImapResponse, NestedListsAndBodySectionAtoms) {
  auto r = parse_one(
      "* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {3}\r\nabc BODYSTRUCTURE ((\"text\" "
      "\"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 3 1 NIL NIL NIL)(\"application\" \"pdf\" "
      "NIL NIL NIL \"base64\" 10 NIL) \"mixed\"))\r\n");
  ASSERT_EQ(r.data.size(), 1u);
  const auto& items = r.data[0].items;
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].text, "BODY[HEADER.FIELDS (FROM SUBJECT)]");
  EXPECT_EQ(items[1].text, "abc");
  EXPECT_EQ(items[3].kind, Value::Kind::list);
  EXPECT_EQ(items[3].items[0].items[2].items[1].text, "utf-8");
}

TEST(ImapResponse, ContinuationAndBye) {
  auto all = parse_all("+ idling\r\n+\r\n* BYE Server shutting down.\r\n");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].type, Response::Type::continuation);
  EXPECT_EQ(all[0].text, "idling");
  EXPECT_EQ(all[1].type, Response::Type::continuation);
  EXPECT_EQ(all[1].text, "");
  EXPECT_EQ(all[2].status, Status::bye);
  EXPECT_EQ(all[2].text, "Server shutting down.");
}

TEST(ImapResponse, UnknownUntaggedExtensionIsTolerated) {
  auto r = parse_one("* XWEIRD ( unbalanced \"stuff\r\n");
  EXPECT_EQ(r.keyword, "XWEIRD");
  EXPECT_TRUE(r.data.empty());
}

TEST(ImapHostile, UnterminatedLiteralStaysIncompleteWithoutCrash) {
  ResponseParser p;
  EXPECT_TRUE(p.feed("* 1 FETCH (BODY[] {100}\r\nonly a few bytes"));
  EXPECT_FALSE(p.has_response());
  EXPECT_FALSE(p.failed());
}

TEST(ImapHostile, HugeLiteralSizeNumberIsAnError) {
  EXPECT_NE(fails_with("* 1 FETCH (BODY[] {99999999999999999999999}\r\n").find("literal"),
            std::string::npos);
  ParserLimits small;
  small.max_literal_bytes = 1000;
  EXPECT_NE(fails_with("* 1 FETCH (BODY[] {1001}\r\n", small).find("exceeds"), std::string::npos);
}

TEST(ImapHostile, ManyLiteralsHitTheResponseLimit) {
  ParserLimits small;
  small.max_literal_bytes = 100;
  small.max_response_bytes = 250;
  std::string lit(100, 'a');
  std::string wire = "* 1 FETCH (A {100}\r\n" + lit + " B {100}\r\n" + lit + " C {100}\r\n";
  EXPECT_NE(fails_with(wire, small).find("larger"), std::string::npos);
}

TEST(ImapHostile, OverlongLineIsAnError) {
  ParserLimits small;
  small.max_line_bytes = 1024;
  ResponseParser p(small);
  std::string junk(600, 'a');
  EXPECT_TRUE(p.feed("* SEARCH " + junk));
  EXPECT_FALSE(p.feed(junk));
  EXPECT_NE(p.error().find("longer"), std::string::npos);
  EXPECT_FALSE(p.feed("\r\nT1 OK\r\n"));  // sticky
  EXPECT_FALSE(p.has_response());
}

TEST(ImapHostile, GarbageIsAnError) {
  fails_with("\x01\x02\x03 garbage\r\n");
  fails_with("T1 MAYBE done\r\n");
  fails_with("* \r\n");
  fails_with("*nospace\r\n");
  fails_with("T1\r\n");
  fails_with("* 1 FETCH (UID 1\r\n");
  fails_with("* 1 FETCH (UID \"unterminated)\r\n");
  fails_with("* SEARCH {abc}\r\n");
  fails_with("T1 OK [UIDNEXT 5 unterminated code\r\n");
  fails_with("* STATUS \"a\" (MESSAGES 1) {x\r\n");
}

TEST(ImapHostile, DeeplyNestedParensAreAnError) {
  std::string deep = "* 1 FETCH " + std::string(100000, '(') + std::string(100000, ')') + "\r\n";
  EXPECT_NE(fails_with(deep).find("nested"), std::string::npos);
  std::string ok = "* 1 FETCH " + std::string(10, '(') + std::string(10, ')') + "\r\n";
  EXPECT_EQ(parse_all(ok).size(), 1u);
}

TEST(ImapHostile, MalformedFetchIsNotTakenAsFetch) {
  auto r = parse_one("* 1 FETCH (UID)\r\n");
  EXPECT_FALSE(take_fetch(r));
  auto r2 = parse_one("* 1 FETCH (UID 99999999999)\r\n");
  EXPECT_FALSE(take_fetch(r2));
  auto r3 = parse_one("* 1 FETCH (FLAGS \\Seen UID 1)\r\n");
  EXPECT_FALSE(take_fetch(r3));
}

TEST(ImapHostile, RandomBytesNeverCrash) {
  std::uint32_t seed = 12345;
  const std::string alphabet = "* ()[]{}\"\\\r\n0123456789+ABCOKNOFETCH";
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    for (int i = 0; i < 200; ++i) {
      seed = seed * 1103515245 + 12345;
      s.push_back(alphabet[(seed >> 16) % alphabet.size()]);
    }
    ParserLimits lim;
    lim.max_literal_bytes = 1000;
    ResponseParser p(lim);
    p.feed(s);
    while (p.has_response()) {
      Response r = p.pop();
      (void)take_fetch(r);
      (void)search_result(r);
      (void)status_result(r);
      (void)capabilities(r);
      (void)flags_result(r);
    }
  }
  SUCCEED();
}

TEST(ImapCommand, QuoteEscapesOrAsksForLiteral) {
  EXPECT_EQ(quote("20/30298"), "\"20/30298\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_FALSE(quote("a\r\nb"));
  EXPECT_FALSE(quote(std::string_view("a\0b", 3)));
  EXPECT_FALSE(quote("S\xc3\xb8knad"));
  EXPECT_EQ(quote("S\xc3\xb8knad", true), "\"S\xc3\xb8knad\"");
}

TEST(ImapCommand, UidSetIsSortedAndCompressed) {
  EXPECT_EQ(format_uid_set({9, 1, 2, 3, 4, 5, 7, 5}), "1:5,7,9");
  EXPECT_EQ(format_uid_set({}), "");
  EXPECT_EQ(format_uid_set({42}), "42");
  EXPECT_EQ(format_uid_set({4294967295u, 4294967294u}), "4294967294:4294967295");
  EXPECT_EQ(format_uid_range(9, std::nullopt), "9:*");
  EXPECT_EQ(format_uid_range(3, 3), "3");
  EXPECT_EQ(format_uid_range(1, 5), "1:5");
}

TEST(ImapCommand, ModifiedUtf7RoundTrip) {
  EXPECT_EQ(encode_mailbox_name("S\xc3\xb8knader"), "S&APg-knader");
  EXPECT_EQ(decode_mailbox_name("S&APg-knader"), "S\xc3\xb8knader");
  EXPECT_EQ(encode_mailbox_name("INBOX/Behandlet"), "INBOX/Behandlet");
  EXPECT_EQ(encode_mailbox_name("A&B"), "A&-B");
  EXPECT_EQ(decode_mailbox_name("A&-B"), "A&B");
  // RFC 3501 §5.1.3 example.
  EXPECT_EQ(decode_mailbox_name("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(encode_mailbox_name(
                "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  for (const char* s : {"\xc3\x86\xc3\x98\xc3\x85 \xc3\xa6\xc3\xb8\xc3\xa5",
                        "\xf0\x9f\x93\xa7 mail", "Tilskudd/2026 &c"}) {
    auto enc = encode_mailbox_name(s);
    ASSERT_TRUE(enc) << s;
    EXPECT_EQ(decode_mailbox_name(*enc), s);
  }
}

TEST(ImapCommand, ModifiedUtf7RejectsInvalidInput) {
  EXPECT_FALSE(encode_mailbox_name("\xff\xfe"));
  EXPECT_FALSE(encode_mailbox_name("\xc3"));
  EXPECT_FALSE(decode_mailbox_name("S&APg"));      // unterminated
  EXPECT_FALSE(decode_mailbox_name("S&AP!-"));     // bad base64
  EXPECT_FALSE(decode_mailbox_name("S\xc3\xb8"));  // 8-bit
  EXPECT_FALSE(decode_mailbox_name("&AGE-"));      // 'a' must not be encoded
  EXPECT_FALSE(decode_mailbox_name("&2D0-"));      // lone surrogate
}

// A multipart/mixed with a text part, a PDF named by RFC 2231 in its disposition and a
// forwarded message/rfc822 whose own PDF has a name parameter: every name is found, none of the
// content is needed.
TEST(ImapFetch, BodystructureOutlineNamesEveryAttachment) {
  const std::string line =
      "* 3 FETCH (UID 9 BODY[HEADER.FIELDS (SUBJECT IN-REPLY-TO REFERENCES)] {16}\r\n"
      "Subject: Hei\r\n\r\n"
      " BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1 NIL "
      "NIL NIL NIL)(\"application\" \"pdf\" NIL NIL NIL \"base64\" 1000 NIL (\"attachment\" "
      "(\"filename*\" \"utf-8''Tildelingsbrev%2020%2F30298.pdf\")) NIL NIL)(\"message\" "
      "\"rfc822\" NIL NIL NIL \"7bit\" 500 (NIL \"Fwd\" NIL NIL NIL NIL NIL NIL NIL NIL) "
      "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL)(\"application\" "
      "\"pdf\" (\"name\" \"=?utf-8?q?S=C3=B8knad?=.pdf\") NIL NIL \"base64\" 300 NIL NIL NIL "
      "NIL) \"mixed\" NIL NIL NIL NIL) 20 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL "
      "NIL NIL))\r\n";
  Response r = parse_one(line);
  auto f = take_fetch(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->uid, 9u);
  ASSERT_TRUE(f->header_fields);
  EXPECT_NE(f->header_fields->find("Subject: Hei"), std::string::npos);
  ASSERT_TRUE(f->structure);
  const auto& names = f->structure->filenames;
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].first, "FILENAME*");
  EXPECT_EQ(names[0].second, "utf-8''Tildelingsbrev%2020%2F30298.pdf");
  EXPECT_EQ(names[1].first, "NAME");
  EXPECT_EQ(f->structure->parts, 5u);  // the message/rfc822 itself, and its two parts
  EXPECT_EQ(f->structure->non_text_parts, 3u);
}
