// The local judge of "may be ours" (parsers/candidate.h): what the server's search might miss is
// still recognised from the header fields and the attachments' names.
#include "parsers/candidate.h"

#include <gtest/gtest.h>

namespace tilskudd {
namespace {

const std::string kCase = "20/30298";

std::string judge(const std::string& headers,
                  const std::vector<std::pair<std::string, std::string>>& files = {}) {
  return may_be_ours(headers + "\r\n\r\n", files, kCase);
}

TEST(Candidate, CaseNumberOrReferenceInTheSubject) {
  EXPECT_EQ(judge("Subject: =?utf-8?q?S=C3=B8knad_sak_20/30298?=\r\n"),
            "the case number in the subject");
  EXPECT_EQ(judge("Subject: Søknad 2020 / 30298\r\n"), "the case number in the subject");
  EXPECT_EQ(judge("Subject: SV: Vedtak TT-2026-0042\r\n"), "a case reference in the subject");
  EXPECT_EQ(judge("Subject: Søknad om tilretteleggingstilskudd\r\n"),
            "the grant's name in the subject");
  EXPECT_EQ(judge("Subject: Brøyting i Askerveien\r\n"), "");
  EXPECT_EQ(judge("Subject: 120/302981\r\n"), "") << "digits go on: another number";
}

TEST(Candidate, AReplyToOneOfOurLetters) {
  EXPECT_EQ(judge("Subject: Re: hei\r\nIn-Reply-To: <tilskudd.TT-2026-0042.decision.1@asker>"),
            "a reply to one of our letters");
  EXPECT_EQ(judge("Subject: Re: hei\r\nReferences: <a@b> <tilskudd.TT-2026-0042.reminder.2@x>"),
            "a reply to one of our letters");
  EXPECT_EQ(judge("Subject: Re: hei\r\nIn-Reply-To: <someone-else@example.no>"), "");
}

TEST(Candidate, AttachmentNamesEncodedAsMailersDo) {
  EXPECT_EQ(judge("Subject: Vedlegg", {{"FILENAME*", "utf-8''Tildelingsbrev%2020%2F30298.pdf"}}),
            "the case number in an attachment's name");
  EXPECT_EQ(judge("Subject: Vedlegg",
                  {{"NAME", "=?utf-8?q?Tilretteleggingstilskudd_s=C3=B8knad.docx?="}}),
            "the grant's name in an attachment's name");
  EXPECT_EQ(judge("Subject: Vedlegg", {{"FILENAME", "faktura-2211.pdf"}}), "");
}

}  // namespace
}  // namespace tilskudd
