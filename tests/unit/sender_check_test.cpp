// Sender authenticity (DECISIONS.md "Sender authenticity"): which Authentication-Results count,
// how DMARC/SPF decide, the From domain against the form's contact, the [sender] config keys,
// and that assess() holds such a case for a person.
#include "workflow/sender_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/config.h"
#include "tests/support/support.h"
#include "workflow/assess.h"

namespace tilskudd::sender {
namespace {

namespace fs = std::filesystem;

// The explicit opt-out of the fail-closed default (test set-ups): the domain rule alone.
config::Sender opt_out() {
  config::Sender s;
  s.require_authentication = false;
  return s;
}

config::Sender trusting(std::vector<std::string> ids) {
  config::Sender s;
  s.authserv_ids = std::move(ids);
  return s;
}

// A header block (the fields as given, then From/To/Subject) parsed by the MIME layer.
mime::Headers headers(const std::string& fields, const std::string& from = "kari@solsikken.no") {
  std::string raw = fields + "From: Kari Nordmann <" + from +
                    ">\r\nTo: post@asker.kommune.no\r\nSubject: Søknad 20/30298\r\n\r\nHei\r\n";
  return mime::parse(raw).headers;
}

std::vector<std::string> codes(const Verdict& v) {
  std::vector<std::string> out;
  for (const auto& f : v.flags) out.push_back(f.code);
  return out;
}

using Codes = std::vector<std::string>;

const std::string kOurs = "mx.asker.kommune.no";

// --- Which Authentication-Results count ---------------------------------------------------------

// Issue 12 (fail closed): with no authserv-id configured, the default holds every case.
TEST(SenderAuth, NoAuthservIdConfiguredFailsClosed) {
  Verdict v = check(headers(""), config::Sender{}, "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_FALSE(v.auth_checked);
  EXPECT_EQ(codes(v), Codes{"sender_unverified"});
  EXPECT_NE(v.flags.front().reason.find("authserv_ids"), std::string::npos);
  // A forged "pass" from a host we do not name changes nothing.
  v = check(headers("Authentication-Results: mx.asker.kommune.no; dmarc=pass "
                    "header.from=solsikken.no\r\n"),
            config::Sender{}, "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_unverified"});
}

TEST(SenderAuth, OffWhenOptedOutAndNoAuthservIdIsConfigured) {
  Verdict v = check(headers(""), opt_out(), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_FALSE(v.auth_checked);
  EXPECT_TRUE(v.flags.empty());
  EXPECT_NE(v.summary.find("not checked"), std::string::npos);
  // Not even a forged dmarc=fail counts when the check is off.
  v = check(headers("Authentication-Results: mx.asker.kommune.no; dmarc=fail "
                    "header.from=solsikken.no\r\n"),
            opt_out(), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_TRUE(v.flags.empty());
}

TEST(SenderAuth, DmarcPassFromOurHostIsEnough) {
  Verdict v = check(headers("Authentication-Results: mx.asker.kommune.no;\r\n"
                            "\tdkim=pass header.d=solsikken.no;\r\n"
                            "\tspf=softfail smtp.mailfrom=relay.example.org;\r\n"
                            "\tdmarc=pass header.from=solsikken.no\r\n"),
                    trusting({kOurs}), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_TRUE(v.auth_checked);
  EXPECT_TRUE(v.flags.empty()) << v.flags.front().reason;
  EXPECT_NE(v.summary.find("dmarc=pass"), std::string::npos) << v.summary;
  EXPECT_NE(v.summary.find(kOurs), std::string::npos) << v.summary;
}

TEST(SenderAuth, AuthservIdComparesCaseInsensitively) {
  Verdict v = check(headers("Authentication-Results: MX.Asker.Kommune.NO; dmarc=fail "
                            "header.from=solsikken.no\r\n"),
                    trusting({kOurs}), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_unauthenticated"});
}

TEST(SenderAuth, ResultsFromOtherHostsAreIgnored) {
  // The sender wrote a dmarc=pass under our name below ours, and one under another host's name:
  // only the topmost field with our authserv-id counts.
  const std::string fields =
      "Authentication-Results: mx.asker.kommune.no; dmarc=fail header.from=solsikken.no\r\n"
      "Authentication-Results: mx.google.com; dmarc=pass header.from=solsikken.no\r\n"
      "Authentication-Results: mx.asker.kommune.no; dmarc=pass header.from=solsikken.no\r\n";
  Verdict v = check(headers(fields), trusting({kOurs}), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_unauthenticated"});
  EXPECT_NE(v.flags.front().reason.find("dmarc=fail"), std::string::npos);

  // Only another host's pass: as if our host wrote nothing.
  v = check(headers("Authentication-Results: mx.google.com; dmarc=pass "
                    "header.from=solsikken.no\r\n"),
            trusting({kOurs}), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_unauthenticated"});
  EXPECT_NE(v.flags.front().reason.find("no Authentication-Results from our receiving host"),
            std::string::npos)
      << v.flags.front().reason;
  // The reason tells the administrator what to do.
  EXPECT_NE(v.flags.front().reason.find("confirm the application"), std::string::npos);
}

TEST(SenderAuth, TopmostOfOurOwnWins) {
  const std::string fields =
      "Authentication-Results: mx.asker.kommune.no; dmarc=pass header.from=solsikken.no\r\n"
      "Authentication-Results: mx.asker.kommune.no; dmarc=fail header.from=solsikken.no\r\n";
  EXPECT_TRUE(check(headers(fields), trusting({kOurs}), "kari@solsikken.no", "").flags.empty());
}

TEST(SenderAuth, SecondTrustedHostCounts) {
  Verdict v = check(headers("Authentication-Results: mx2.asker.kommune.no; dmarc=pass "
                            "header.from=solsikken.no\r\n"),
                    trusting({kOurs, "mx2.asker.kommune.no"}), "kari@solsikken.no", "");
  EXPECT_TRUE(v.flags.empty());
}

TEST(SenderAuth, ExchangeOnlineOnlyWhenAccepted) {
  const std::string m365 =
      "Authentication-Results: spf=pass (sender IP is 209.85.208.177)\r\n"
      " smtp.mailfrom=solsikken.no; dkim=pass (signature was verified)\r\n"
      " header.d=solsikken.no;dmarc=pass action=none\r\n"
      " header.from=solsikken.no;compauth=pass reason=100\r\n";
  config::Sender s;
  s.accept_missing_authserv_id = true;
  EXPECT_TRUE(s.checks_authentication());
  Verdict v = check(headers(m365), s, "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_TRUE(v.flags.empty());
  EXPECT_NE(v.summary.find("no authserv-id"), std::string::npos) << v.summary;

  // Not accepted: the id-less field is anybody's.
  v = check(headers(m365), trusting({kOurs}), "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_unauthenticated"});

  // Microsoft's composite verdict counts when DMARC gives none.
  v = check(headers("Authentication-Results: spf=none (sender IP is 1.2.3.4)\r\n"
                    " smtp.mailfrom=solsikken.no; dkim=none (message not signed)\r\n"
                    " header.d=none;dmarc=none action=none header.from=solsikken.no;\r\n"
                    " compauth=fail reason=001\r\n"),
            s, "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_unauthenticated"});
  EXPECT_NE(v.flags.front().reason.find("compauth=fail"), std::string::npos);

  // bestguesspass is not a DMARC pass, but nothing failed either.
  v = check(headers("Authentication-Results: spf=pass (sender IP is 1.2.3.4)\r\n"
                    " smtp.mailfrom=solsikken.no; dmarc=bestguesspass action=none\r\n"
                    " header.from=solsikken.no;compauth=pass reason=109\r\n"),
            s, "kari@solsikken.no", "kari@solsikken.no");
  EXPECT_TRUE(v.flags.empty());
}

// --- DMARC first, then SPF ----------------------------------------------------------------------

struct Case {
  const char* results;
  bool flagged;
};

TEST(SenderAuth, DmarcThenSpf) {
  const Case cases[] = {
      {"dmarc=pass header.from=solsikken.no; spf=fail smtp.mailfrom=fwd.example.org", false},
      {"dmarc=fail header.from=solsikken.no; spf=pass smtp.mailfrom=solsikken.no", true},
      {"dmarc=fail; dmarc=pass", true},  // two verdicts: a fail wins
      {"spf=fail smtp.mailfrom=solsikken.no", true},
      {"dmarc=none header.from=solsikken.no; spf=fail smtp.mailfrom=solsikken.no", true},
      {"dmarc=temperror header.from=solsikken.no; spf=pass smtp.mailfrom=solsikken.no", false},
      {"spf=softfail smtp.mailfrom=solsikken.no", false},
      {"spf=pass smtp.mailfrom=solsikken.no", false},
      {"spf=none smtp.mailfrom=solsikken.no", false},
      {"dkim=pass header.d=solsikken.no", true},  // neither DMARC nor SPF
      {"none", true},
  };
  for (const auto& c : cases) {
    Verdict v = check(
        headers("Authentication-Results: mx.asker.kommune.no; " + std::string(c.results) + "\r\n"),
        trusting({kOurs}), "kari@solsikken.no", "kari@solsikken.no");
    EXPECT_EQ(!v.flags.empty(), c.flagged) << c.results << ": " << v.summary;
    for (const auto& f : v.flags) EXPECT_EQ(f.code, "sender_unauthenticated") << c.results;
  }
}

TEST(SenderAuth, DmarcPassForAnotherDomainDoesNotVouchForFrom) {
  // The receiving host evaluated a different From than the one we read (two From fields, or a
  // display trick): its pass says nothing about ours.
  Verdict v = check(headers("Authentication-Results: mx.asker.kommune.no; dmarc=pass "
                            "header.from=evil.example\r\n"),
                    trusting({kOurs}), "kari@solsikken.no", "");
  EXPECT_EQ(codes(v), Codes{"sender_unauthenticated"});
  EXPECT_NE(v.flags.front().reason.find("evil.example"), std::string::npos);
  // The same domain in other case is a pass.
  v = check(headers("Authentication-Results: mx.asker.kommune.no; dmarc=pass "
                    "header.from=SOLSIKKEN.no\r\n"),
            trusting({kOurs}), "kari@solsikken.no", "");
  EXPECT_TRUE(v.flags.empty());
}

// --- The From domain against the form's contact ---------------------------------------------

TEST(SenderDomain, SameDomainAndSubdomainsMatch) {
  EXPECT_TRUE(same_organisation_domain("solsikken.no", "solsikken.no"));
  EXPECT_TRUE(same_organisation_domain("mail.solsikken.no", "solsikken.no"));
  EXPECT_TRUE(same_organisation_domain("solsikken.no", "bhg.solsikken.no"));
  EXPECT_FALSE(same_organisation_domain("solsikken.no", "trollstua.no"));
  EXPECT_FALSE(same_organisation_domain("evilsolsikken.no", "solsikken.no"));
  // Siblings under a shared suffix are not one organisation.
  EXPECT_FALSE(same_organisation_domain("asker.kommune.no", "baerum.kommune.no"));
  // A bare top-level domain is nobody's organisation.
  EXPECT_FALSE(same_organisation_domain("solsikken.no", "no"));
  EXPECT_FALSE(same_organisation_domain("", ""));
}

TEST(SenderDomain, AddressDomainIsNormalised) {
  EXPECT_EQ(address_domain("Kari@Solsikken.NO"), "solsikken.no");
  EXPECT_EQ(address_domain("kari@solsikken.no."), "solsikken.no");
  EXPECT_EQ(address_domain("styrer@blåbær.no"), "xn--blbr-roah.no");
  EXPECT_EQ(address_domain("styrer@BLÅBÆR.no"), "xn--blbr-roah.no");
  EXPECT_EQ(address_domain("post@Østre-Toten.no"), "xn--stre-toten-zcb.no");
  EXPECT_EQ(address_domain("x@ø.no"), "xn--pda.no");
  EXPECT_EQ(address_domain("no address"), "");
  EXPECT_EQ(address_domain("kari@"), "");
}

TEST(SenderDomain, MismatchIsFlagged) {
  Verdict v = check(headers("", "kari.nordmann@gmail.com"), opt_out(), "kari.nordmann@gmail.com",
                    "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_domain_mismatch"});
  EXPECT_NE(v.flags.front().reason.find("gmail.com"), std::string::npos);
  EXPECT_NE(v.flags.front().reason.find("solsikken.no"), std::string::npos);
  EXPECT_NE(v.flags.front().reason.find("check with the organisation"), std::string::npos);
}

TEST(SenderDomain, MatchesCaseSubdomainAndIdn) {
  config::Sender s = opt_out();
  EXPECT_TRUE(check(headers(""), s, "Kari@SOLSIKKEN.no", "kari@solsikken.no").flags.empty());
  EXPECT_TRUE(check(headers(""), s, "kari@mail.solsikken.no", "kari@solsikken.no").flags.empty());
  // The From field carries the ACE form; applicants type the letters.
  EXPECT_TRUE(check(headers(""), s, "styrer@xn--blbr-roah.no", "styrer@blåbær.no").flags.empty());
}

TEST(SenderDomain, NoContactOrSwitchedOffMeansNoCheck) {
  config::Sender off = opt_out();
  off.require_match_contact_domain = false;
  EXPECT_TRUE(check(headers(""), off, "kari@gmail.com", "kari@solsikken.no").flags.empty());
  EXPECT_TRUE(check(headers(""), opt_out(), "kari@gmail.com", "").flags.empty());
}

TEST(SenderDomain, NoFromAddressIsFlagged) {
  Verdict v = check(headers(""), opt_out(), "", "kari@solsikken.no");
  EXPECT_EQ(codes(v), Codes{"sender_domain_mismatch"});
}

// Issue 12: letters go to the sender, or to the form's contact only in the sender's domain.
TEST(SenderRecipient, ContactOnlyInTheSendersDomain) {
  EXPECT_EQ(recipient("styrer@solsikken.no", "kari@solsikken.no"), "kari@solsikken.no");
  EXPECT_EQ(recipient("styrer@mail.solsikken.no", "kari@solsikken.no"), "kari@solsikken.no");
  EXPECT_EQ(recipient("styrer@xn--blbr-roah.no", "kari@blåbær.no"), "kari@blåbær.no");
  // The form names an address outside the sender's domain: the letter goes to the sender.
  EXPECT_EQ(recipient("kari@solsikken.no", "victim@example.org"), "kari@solsikken.no");
  EXPECT_EQ(recipient("a@asker.kommune.no", "b@baerum.kommune.no"), "a@asker.kommune.no");
  EXPECT_EQ(recipient("kari@solsikken.no", ""), "kari@solsikken.no");
  // No sender to vouch for the form's address: no recipient.
  EXPECT_EQ(recipient("", "kari@solsikken.no"), "");
  EXPECT_EQ(recipient("", ""), "");
}

TEST(SenderDomain, BothFlagsAtOnce) {
  Verdict v = check(headers("Authentication-Results: mx.asker.kommune.no; dmarc=fail "
                            "header.from=gmail.com\r\n"),
                    trusting({kOurs}), "kari@gmail.com", "kari@solsikken.no");
  EXPECT_EQ(codes(v), (Codes{"sender_unauthenticated", "sender_domain_mismatch"}));
}

// --- [sender] in the config -----------------------------------------------------------------

const std::string kYear = R"(
[year.2020]
deadlines = ["2020-09-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)";

std::string config_error(const std::string& toml) {
  try {
    config::parse(toml, fs::temp_directory_path(), "tilskudd.toml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(SenderConfig, DefaultsAreOffAndDomainMatchOn) {
  config::Config c = config::parse(kYear, fs::temp_directory_path());
  EXPECT_TRUE(c.sender.authserv_ids.empty());
  EXPECT_FALSE(c.sender.accept_missing_authserv_id);
  EXPECT_FALSE(c.sender.checks_authentication());
  EXPECT_TRUE(c.sender.require_match_contact_domain);
  EXPECT_TRUE(c.sender.require_authentication);
  EXPECT_TRUE(c.sender.fails_closed());
}

TEST(SenderConfig, ReadsEveryKey) {
  config::Config c = config::parse(kYear + R"(
[sender]
authserv_ids = ["mx.asker.kommune.no", "mx2.asker.kommune.no"]
accept_missing_authserv_id = true
require_match_contact_domain = false
require_authentication = false
)",
                                   fs::temp_directory_path());
  EXPECT_EQ(c.sender.authserv_ids,
            (std::vector<std::string>{"mx.asker.kommune.no", "mx2.asker.kommune.no"}));
  EXPECT_TRUE(c.sender.accept_missing_authserv_id);
  EXPECT_FALSE(c.sender.require_match_contact_domain);
  EXPECT_FALSE(c.sender.require_authentication);
  EXPECT_TRUE(c.sender.checks_authentication());
}

TEST(SenderConfig, ExampleConfigHasTheSection) {
  config::Config c =
      config::load(fs::path(TILSKUDD_SOURCE_DIR) / "config" / "tilskudd.example.toml");
  EXPECT_FALSE(c.sender.checks_authentication());
  EXPECT_TRUE(c.sender.require_match_contact_domain);
  // The example keeps the fail-closed default: nothing is decided until authserv_ids is set.
  EXPECT_TRUE(c.sender.fails_closed());
}

TEST(SenderConfig, ErrorsNameTheKey) {
  struct Bad {
    std::string toml;
    std::vector<std::string> parts;
  };
  const Bad bad[] = {
      {"[sender]\nauthserv_ids = \"mx.asker.kommune.no\"\n",
       {"[sender] authserv_ids", "expected an array"}},
      {"[sender]\nauthserv_ids = [1]\n", {"[sender] authserv_ids[0]", "expected a string"}},
      {"[sender]\nauthserv_ids = [\"\"]\n", {"authserv_ids[0]", "is empty"}},
      {"[sender]\nauthserv_ids = [\"mx.asker.kommune.no; x\"]\n",
       {"authserv_ids[0]", "not an authserv-id"}},
      {"[sender]\nauthserv_ids = [\"mx asker\"]\n", {"authserv_ids[0]", "not an authserv-id"}},
      {"[sender]\nauthserv_ids = [\"mx.a.no\", \"MX.A.NO\"]\n",
       {"authserv_ids[1]", "listed twice"}},
      {"[sender]\naccept_missing_authserv_id = \"yes\"\n",
       {"[sender] accept_missing_authserv_id", "true or false"}},
      {"[sender]\nrequire_match_contact_domain = 1\n",
       {"[sender] require_match_contact_domain", "true or false"}},
      {"[sender]\nauthserv_id = [\"mx.a.no\"]\n", {"[sender] authserv_id", "unknown key"}},
      {"sender = 1\n", {"[sender]", "must be a table"}},
  };
  for (const auto& b : bad) {
    std::string m = config_error(b.toml + kYear);
    ASSERT_FALSE(m.empty()) << "no error for " << b.toml;
    EXPECT_NE(m.find("tilskudd.toml"), std::string::npos) << m;
    for (const auto& p : b.parts) EXPECT_NE(m.find(p), std::string::npos) << p << " in: " << m;
  }
}

// --- assess(): a doubtful sender holds the case ---------------------------------------------

class SenderAssess : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path corpus = fs::path(TILSKUDD_SOURCE_DIR) / "tests" / "corpus";
    cfg_ = config::load(corpus / "config.toml");
    // A corpus mail decided without any PDF (an inline-forwarded rejection letter).
    raw_ = testing::read_file(corpus / "19-gmail-inline-forwarded-letter.eml");
    opt_.today = Date{2020, 10, 1};
  }

  Assessment run(const std::string& raw) { return assess(raw, cfg_, opt_); }

  static bool has(const Assessment& a, const std::string& code) {
    for (const auto& f : a.flags) {
      if (f.code == code) return true;
    }
    return false;
  }

  config::Config cfg_;
  std::string raw_;
  AssessOptions opt_;
};

TEST_F(SenderAssess, DecidedWithoutSenderSettings) {
  Assessment a = run(raw_);
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided);
  EXPECT_FALSE(has(a, "sender_unauthenticated"));
  EXPECT_FALSE(has(a, "sender_domain_mismatch"));
}

// Issue 12, attack 7: a forged From with no Authentication-Results, under the default
// [sender] (nothing configured): no automatic decision, and no letter to the address the forger
// chose in the form.
TEST_F(SenderAssess, ForgedFromUnderTheDefaultIsNotDecided) {
  cfg_.sender = config::Sender{};  // the default: fail closed
  std::string raw = raw_;
  const std::string contact = "ragnhild.boe@vettregard.no";
  // The forger writes the victim's domain in From and its own address as the form's contact.
  auto pos = raw.find(contact, raw.find("E-post"));
  ASSERT_NE(pos, std::string::npos);
  raw.replace(pos, contact.size(), "target@forger.example");
  // In the HTML version too (quoted-printable, broken after "r"), or the two versions disagree
  // (alternatives_disagree) and the HTML one is read.
  const std::string html_contact = "E-post: r=\r\nagnhild.boe@vettregard.no";
  pos = raw.find(html_contact);
  ASSERT_NE(pos, std::string::npos);
  raw.replace(pos, html_contact.size(), "E-post: target@forger.example");
  Assessment a = run(raw);
  EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
  EXPECT_TRUE(has(a, "sender_unverified"));
  EXPECT_EQ(a.form.contact_email, "target@forger.example");
  EXPECT_EQ(a.contact_email, "ragnhild.boe@vettregard.no");  // never the forger's address
  EXPECT_EQ(to_json(a)["application"]["contact_email"], "ragnhild.boe@vettregard.no");

  // The same honest mail under the default is held too (the start-up log says why) ...
  EXPECT_EQ(run(raw_).decision.status, rules::CaseStatus::flagged);
  // ... and decided once our receiving host's verdict is read.
  cfg_.sender.authserv_ids = {"mx01.asker.kommune.no"};
  EXPECT_EQ(run("Authentication-Results: mx01.asker.kommune.no; dmarc=pass "
                "header.from=vettregard.no\r\n" +
                raw_)
                .decision.status,
            rules::CaseStatus::decided);
}

TEST_F(SenderAssess, DmarcFailHoldsTheCase) {
  cfg_.sender.authserv_ids = {"mx01.asker.kommune.no"};
  Assessment a =
      run("Authentication-Results: mx01.asker.kommune.no; spf=softfail "
          "smtp.mailfrom=vettregard.no; dmarc=fail header.from=vettregard.no\r\n" +
          raw_);
  EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
  EXPECT_TRUE(has(a, "sender_unauthenticated"));
  // The lines keep what the rules said: a person confirms the sender, then the decision.
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(to_json(a)["decision"]["status"], "flagged");
}

TEST_F(SenderAssess, DmarcPassStillDecides) {
  cfg_.sender.authserv_ids = {"mx01.asker.kommune.no"};
  Assessment a =
      run("Authentication-Results: mx01.asker.kommune.no; spf=pass "
          "smtp.mailfrom=vettregard.no; dmarc=pass header.from=vettregard.no\r\n" +
          raw_);
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided);
  EXPECT_TRUE(a.flags.empty());
}

TEST_F(SenderAssess, NoResultFromOurHostHoldsTheCase) {
  cfg_.sender.authserv_ids = {"mx01.asker.kommune.no"};
  Assessment a = run(raw_);
  EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
  EXPECT_TRUE(has(a, "sender_unauthenticated"));
}

// Issue 15: a From field with two mailboxes (RFC 5322 3.6.2 then requires Sender, which
// proves nothing either). Neither is taken as the sender: even with DMARC passing for the
// applicant's domain the case is held, and no letter has an address to go to.
TEST_F(SenderAssess, TwoFromAddressesAreNeitherSender) {
  cfg_.sender.authserv_ids = {"mx01.asker.kommune.no"};
  for (const char* from :
       {"From: Ragnhild <ragnhild.boe@vettregard.no>, Mallory <m@evil.example>\r\n",
        "From: ragnhild.boe@vettregard.no m@evil.example\r\n",
        "From: m@evil.example\r\nFrom: ragnhild.boe@vettregard.no\r\n"}) {
    std::string raw = raw_;
    const auto start = raw.find("\nFrom:") + 1;
    raw.erase(start, raw.find('\n', start) + 1 - start);
    raw.insert(start, from);
    raw =
        "Authentication-Results: mx01.asker.kommune.no; spf=pass smtp.mailfrom=vettregard.no; "
        "dmarc=pass header.from=vettregard.no\r\n" +
        raw;
    Assessment a = run(raw);
    EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged) << from;
    EXPECT_TRUE(has(a, "multiple_from")) << from;
    EXPECT_EQ(a.from_address, "") << from;
    EXPECT_EQ(a.contact_email, "") << from;  // no letter goes anywhere automatically
    EXPECT_FALSE(a.sender_authenticated) << from;
  }
  // One From with one mailbox is unchanged.
  EXPECT_EQ(run("Authentication-Results: mx01.asker.kommune.no; dmarc=pass "
                "header.from=vettregard.no\r\n" +
                raw_)
                .decision.status,
            rules::CaseStatus::decided);
}

TEST_F(SenderAssess, FromOutsideTheContactDomainHoldsTheCase) {
  std::string raw = raw_;
  const std::string from = "<ragnhild.boe@vettregard.no>";
  auto pos = raw.find(from, raw.find("\nFrom:"));  // not the Return-Path
  ASSERT_NE(pos, std::string::npos);
  raw.replace(pos, from.size(), "<vettregard.barnehage@gmail.com>");
  Assessment a = run(raw);
  EXPECT_EQ(a.form.contact_email, "ragnhild.boe@vettregard.no");
  EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
  EXPECT_TRUE(has(a, "sender_domain_mismatch"));

  cfg_.sender.require_match_contact_domain = false;
  EXPECT_EQ(run(raw).decision.status, rules::CaseStatus::decided);
}

}  // namespace
}  // namespace tilskudd::sender
