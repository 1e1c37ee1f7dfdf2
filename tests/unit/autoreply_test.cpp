#include "parsers/autoreply.h"

#include <gtest/gtest.h>

#include <string>

#include "parsers/mime.h"

namespace tilskudd {
namespace {

std::optional<std::string> classify(const std::string& headers) {
  std::string raw = headers + "\r\n\r\nSøknad 20/30298\r\n";
  return machine_generated(mime::parse(raw), "post@asker.kommune.no");
}

const std::string kPerson =
    "From: Kari Nordmann <kari@solsikken.no>\r\nTo: post@asker.kommune.no\r\n"
    "Subject: Søknad 20/30298\r\nMessage-ID: <x@y>";

TEST(AutoReply, PersonIsNotMachineGenerated) {
  EXPECT_EQ(classify(kPerson), std::nullopt);
}

TEST(AutoReply, AutoSubmittedNoIsAPerson) {
  EXPECT_EQ(classify(kPerson + "\r\nAuto-Submitted: no"), std::nullopt);
}

TEST(AutoReply, Rfc3834AutoSubmitted) {
  EXPECT_EQ(classify(kPerson + "\r\nAuto-Submitted: auto-replied"), "auto_reply");
  EXPECT_EQ(classify(kPerson + "\r\nAuto-Submitted: auto-generated"), "auto_reply");
}

TEST(AutoReply, XAutoreplyAndPrecedence) {
  EXPECT_EQ(classify(kPerson + "\r\nX-Autoreply: yes"), "auto_reply");
  EXPECT_EQ(classify(kPerson + "\r\nPrecedence: bulk"), "auto_reply");
  EXPECT_EQ(classify(kPerson + "\r\nPrecedence: junk"), "auto_reply");
}

TEST(AutoReply, OutlookOutOfOffice) {
  EXPECT_EQ(classify("From: Per <per@x.no>\r\nSubject: Automatisk svar: Søknad 20/30298\r\n"
                     "X-Auto-Response-Suppress: All"),
            "auto_reply");
}

TEST(AutoReply, BounceByNullReturnPath) {
  EXPECT_EQ(classify("Return-Path: <>\r\n" + kPerson), "bounce");
}

TEST(AutoReply, BounceByMailerDaemon) {
  EXPECT_EQ(classify("From: Mail Delivery System <MAILER-DAEMON@mx.example.no>\r\n"
                     "Subject: Undelivered Mail Returned to Sender"),
            "bounce");
  EXPECT_EQ(classify("From: postmaster@example.no\r\nSubject: Delivery Status Notification"),
            "bounce");
}

TEST(AutoReply, BounceByMultipartReport) {
  EXPECT_EQ(classify("From: x@y.no\r\nSubject: Returned\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: multipart/report; report-type=delivery-status; "
                     "boundary=\"b\""),
            "bounce");
}

TEST(AutoReply, OwnMessageByFromAndByOurHeader) {
  EXPECT_EQ(classify("From: Asker kommune <POST@asker.kommune.no>\r\nSubject: Vedtak 20/30298"),
            "own_message");
  EXPECT_EQ(classify(kPerson + "\r\nX-Tilskudd-Case: TT-2020-0001"), "own_message");
}

}  // namespace
}  // namespace tilskudd
