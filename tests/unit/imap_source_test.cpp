// The pure parts of the IMAP mail source (daemon/imap_source.h): the mailbox named by the URL,
// the arrival date, and the search that decides what is fetched. What it does on the wire is
// tested against the real Dovecot (tests/integration/imap_client_test.cpp, daemon_test.cpp).
#include "daemon/imap_source.h"

#include <gtest/gtest.h>

#include <string>

namespace tilskudd {
namespace {

TEST(MailboxFromUrl, IsThePathPercentDecodedOrInbox) {
  EXPECT_EQ(mailbox_from_url("imaps://imap.example.no/INBOX"), "INBOX");
  EXPECT_EQ(mailbox_from_url("imaps://imap.example.no:993/Tilskudd/S%C3%B8knader"),
            "Tilskudd/Søknader");
  EXPECT_EQ(mailbox_from_url("imaps://imap.example.no"), "INBOX");
  EXPECT_EQ(mailbox_from_url("imaps://imap.example.no/"), "INBOX");
  EXPECT_EQ(mailbox_from_url("imap://127.0.0.1:143/Post;UIDVALIDITY=7"), "Post");
  EXPECT_EQ(mailbox_from_url("imaps://h/A%2"), "A%2") << "a broken escape stays as written";
}

TEST(InternalDateToIso, KeepsTheServersZone) {
  EXPECT_EQ(internaldate_to_iso("24-Nov-2026 11:36:40 +0100"), "2026-11-24T11:36:40+01:00");
  EXPECT_EQ(internaldate_to_iso(" 4-Aug-2020 08:00:00 -0230"), "2020-08-04T08:00:00-02:30");
  EXPECT_EQ(internaldate_to_iso("24-Foo-2026 11:36:40 +0100"), "");
  EXPECT_EQ(internaldate_to_iso("24-Nov-2026 25:36:40 +0100"), "");
  EXPECT_EQ(internaldate_to_iso(""), "");
}

TEST(SearchCriteria, NamesTheCaseNumbersSerialOrTheGrantWithAnAttachment) {
  EXPECT_EQ(search_criteria(42, "20/30298"),
            "UID 42:* OR (OR SUBJECT \"30298\" BODY \"30298\") (HEADER Content-Type "
            "\"multipart/mixed\" OR (OR SUBJECT \"tilretteleggingstilskudd\" SUBJECT "
            "\"tilretteleggingsmidler\") (OR BODY \"tilretteleggingstilskudd\" BODY "
            "\"tilretteleggingsmidler\"))");
  // A case number that cannot be quoted searches for nothing rather than sending it raw.
  EXPECT_NE(search_criteria(1, "20/30\r\n298").find("SUBJECT \"\" BODY \"\""), std::string::npos);
}

// Exchange's notice in place of a message it will not give out yet: pending, never a case. A long
// real message that quotes the sentence (a citizen forwarding the notice) is read as mail.
TEST(ExchangeStandIn, IsTheShortNoticeNotAMessageQuotingIt) {
  const std::string notice =
      "From: Microsoft Exchange "
      "<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@asker.kommune.no>"
      "\r\nSubject: Retrieval using the IMAP4 protocol failed for the following message: 1234\r\n"
      "\r\nRetrieval using the IMAP4 protocol failed for the following message: 1234\r\n";
  EXPECT_TRUE(is_exchange_stand_in(notice));
  EXPECT_FALSE(is_exchange_stand_in("Subject: Soknad 20/30298\r\n\r\nHei\r\n"));
  EXPECT_FALSE(is_exchange_stand_in(notice + std::string(kExchangeStandInMaxBytes, 'x')));
}

TEST(SearchCriteria, RunsOverAUidRangeAndFromADay) {
  const std::string c = search_criteria(2001, 4000, "20/30298", "2026-03-01");
  EXPECT_EQ(c.rfind("UID 2001:4000 SINCE 1-Mar-2026 OR ", 0), 0u) << c;
  EXPECT_EQ(search_criteria(5, 0, "20/30298", "").rfind("UID 5:* OR ", 0), 0u);
  EXPECT_EQ(imap_date("2026-12-07"), "7-Dec-2026");
  EXPECT_EQ(imap_date("2026-13-07"), "");
  EXPECT_EQ(imap_date("yesterday"), "");
}

TEST(KeepsKeyword, IsPermanentFlagsWithItOrAStarOrNoneSent) {
  MailboxInfo info;
  EXPECT_TRUE(keeps_keyword(info, "$Tilskudd")) << "RFC 3501: no PERMANENTFLAGS, all are kept";
  info.permanent_flags_sent = true;
  info.permanent_flags = {"\\Seen", "\\Deleted", "\\*"};
  EXPECT_TRUE(keeps_keyword(info, "$Tilskudd"));
  info.permanent_flags = {"\\Seen", "\\Deleted", "$MDNSent"};  // Exchange Online
  EXPECT_FALSE(keeps_keyword(info, "$Tilskudd"));
  info.permanent_flags.push_back("$Tilskudd");
  EXPECT_TRUE(keeps_keyword(info, "$Tilskudd"));
}

TEST(ThrottleWait, IsTheServersSuggestionWithinBoundsOrTheRfc5530Codes) {
  using std::chrono::milliseconds;
  EXPECT_EQ(throttle_wait("", "Request is throttled. Suggested Backoff Time: 1500 milliseconds"),
            milliseconds{1500});
  EXPECT_EQ(throttle_wait("", "Request is throttled. Suggested Backoff Time: 0 milliseconds"),
            milliseconds{1000})
      << "never a busy loop";
  EXPECT_EQ(throttle_wait("", "Request is throttled. Suggested Backoff Time: 99999999999999"),
            kMaxThrottleWait);
  EXPECT_EQ(throttle_wait("", "Request is throttled."), kDefaultThrottleWait);
  EXPECT_EQ(throttle_wait("LIMIT", "Too many connections"), kDefaultThrottleWait);
  EXPECT_EQ(throttle_wait("UNAVAILABLE", "Try later"), kDefaultThrottleWait);
  EXPECT_EQ(throttle_wait("INUSE", "Mailbox locked"), kDefaultThrottleWait);
  EXPECT_FALSE(throttle_wait("NOPERM", "Permission denied"));
  EXPECT_FALSE(throttle_wait("", "Mailbox does not exist"));
}

}  // namespace
}  // namespace tilskudd
