// RFC 8601 Authentication-Results values as real receivers write them (Exchange Online, Google,
// rspamd, OpenDMARC, OpenDKIM, policyd-spf, the RFC's own examples) and broken ones.
#include "parsers/auth_results.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace tilskudd::auth {
namespace {

const MethodResult& only(const AuthResults& r, std::string_view method) {
  auto found = r.find(method);
  if (found.size() != 1) {
    throw std::runtime_error("expected one " + std::string(method) + " result, got " +
                             std::to_string(found.size()));
  }
  return *found.front();
}

TEST(AuthResults, ExchangeOnlineWithoutAuthservId) {
  // Microsoft 365 as it stamps inbound mail: no authserv-id, "action=none" without a ptype,
  // no space after some ';'.
  auto r = parse_authentication_results(
      "spf=pass (sender IP is 209.85.208.177)\r\n smtp.mailfrom=solsikken.no; dkim=pass "
      "(signature was verified)\r\n header.d=solsikken.no;dmarc=pass action=none\r\n "
      "header.from=solsikken.no;compauth=pass reason=100");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_authserv_id);
  EXPECT_EQ(r->authserv_id, "");
  ASSERT_EQ(r->results.size(), 4u);
  EXPECT_EQ(r->results[0].method, "spf");
  EXPECT_EQ(r->results[0].result, "pass");
  EXPECT_EQ(r->results[0].comment, "sender IP is 209.85.208.177");
  EXPECT_EQ(r->results[0].property("smtp", "mailfrom"), "solsikken.no");
  EXPECT_EQ(only(*r, "dkim").property("header", "d"), "solsikken.no");
  const MethodResult& dmarc = only(*r, "dmarc");
  EXPECT_EQ(dmarc.result, "pass");
  EXPECT_EQ(dmarc.property("", "action"), "none");
  EXPECT_EQ(dmarc.property("header", "from"), "solsikken.no");
  EXPECT_EQ(only(*r, "compauth").result, "pass");
  EXPECT_EQ(only(*r, "compauth").reason, "100");
}

TEST(AuthResults, ExchangeOnlineSpoofAndBestGuessPass) {
  auto fail = parse_authentication_results(
      "spf=fail (sender IP is 185.12.1.3) smtp.mailfrom=solsikken.no; dkim=none (message not "
      "signed) header.d=none;dmarc=fail action=quarantine header.from=solsikken.no;compauth=fail "
      "reason=000");
  ASSERT_TRUE(fail);
  EXPECT_EQ(only(*fail, "spf").result, "fail");
  EXPECT_EQ(only(*fail, "dkim").result, "none");
  EXPECT_EQ(only(*fail, "dkim").comment, "message not signed");
  EXPECT_EQ(only(*fail, "dmarc").result, "fail");
  EXPECT_EQ(only(*fail, "dmarc").property("", "action"), "quarantine");
  EXPECT_EQ(only(*fail, "compauth").result, "fail");
  EXPECT_EQ(only(*fail, "compauth").reason, "000");

  auto guess = parse_authentication_results(
      "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=trollstua.no; dkim=none (message not "
      "signed) header.d=none;dmarc=bestguesspass action=none header.from=trollstua.no;"
      "compauth=pass reason=109");
  ASSERT_TRUE(guess);
  EXPECT_EQ(only(*guess, "dmarc").result, "bestguesspass");
}

TEST(AuthResults, GoogleFolded) {
  auto r = parse_authentication_results(
      "mx.google.com;\r\n       dkim=pass header.i=@solsikken.no header.s=google "
      "header.b=\"Ab3dE+/x\";\r\n       arc=pass (i=1 spf=pass spfdomain=solsikken.no dkim=pass "
      "dkdomain=solsikken.no dmarc=pass fromdomain=solsikken.no);\r\n       spf=pass "
      "(google.com: domain of kari@solsikken.no designates 209.85.220.41 as permitted sender) "
      "smtp.mailfrom=kari@solsikken.no;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) "
      "header.from=solsikken.no");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_authserv_id);
  EXPECT_EQ(r->authserv_id, "mx.google.com");
  ASSERT_EQ(r->results.size(), 4u);
  const MethodResult& dkim = only(*r, "dkim");
  EXPECT_EQ(dkim.property("header", "i"), "@solsikken.no");
  EXPECT_EQ(dkim.property("header", "b"), "Ab3dE+/x");
  // A comment that looks like results does not add results.
  EXPECT_EQ(r->find("arc").size(), 1u);
  EXPECT_EQ(only(*r, "arc").comment,
            "i=1 spf=pass spfdomain=solsikken.no dkim=pass dkdomain=solsikken.no dmarc=pass "
            "fromdomain=solsikken.no");
  EXPECT_EQ(only(*r, "spf").property("smtp", "mailfrom"), "kari@solsikken.no");
  EXPECT_EQ(only(*r, "dmarc").comment, "p=NONE sp=NONE dis=NONE");
}

TEST(AuthResults, RspamdOnOurOwnHost) {
  auto r = parse_authentication_results(
      "mx.asker.kommune.no;\n\tdkim=pass header.d=solsikken.no header.s=mail "
      "header.b=\"k3Jx/8+a\";\n\tdmarc=pass (policy=reject) header.from=solsikken.no;\n\tspf=pass "
      "(mx.asker.kommune.no: domain of \"kari@solsikken.no\" designates 51.175.1.2 as permitted "
      "sender) smtp.mailfrom=kari@solsikken.no");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->authserv_id, "mx.asker.kommune.no");
  EXPECT_EQ(only(*r, "dkim").property("header", "b"), "k3Jx/8+a");
  EXPECT_EQ(only(*r, "dmarc").comment, "policy=reject");
  EXPECT_EQ(only(*r, "spf").comment,
            "mx.asker.kommune.no: domain of \"kari@solsikken.no\" designates 51.175.1.2 as "
            "permitted sender");
}

TEST(AuthResults, OpenDmarcOpenDkimAndPolicydSpf) {
  auto dmarc = parse_authentication_results(
      "mx.asker.kommune.no; dmarc=fail (p=reject dis=none) "
      "header.from=solsikken.no");
  ASSERT_TRUE(dmarc);
  EXPECT_EQ(only(*dmarc, "dmarc").result, "fail");
  EXPECT_EQ(only(*dmarc, "dmarc").property("header", "from"), "solsikken.no");

  auto dkim = parse_authentication_results(
      "mx.asker.kommune.no;\n\tdkim=pass (2048-bit key; unprotected) header.d=solsikken.no "
      "header.i=@solsikken.no header.b=\"k3Jx/8+a\"; dkim-atps=neutral");
  ASSERT_TRUE(dkim);
  ASSERT_EQ(dkim->results.size(), 2u);
  // The ';' inside the comment does not split the result.
  EXPECT_EQ(dkim->results[0].comment, "2048-bit key; unprotected");
  EXPECT_EQ(dkim->results[0].property("header", "d"), "solsikken.no");
  EXPECT_EQ(dkim->results[1].method, "dkim-atps");
  EXPECT_EQ(dkim->results[1].result, "neutral");

  auto spf = parse_authentication_results(
      "mx.asker.kommune.no; spf=softfail (domain owner discourages use of this host) "
      "smtp.mailfrom=solsikken.no (client-ip=10.1.2.3; helo=relay.example.org; "
      "envelope-from=kari@solsikken.no; receiver=<UNKNOWN>)");
  ASSERT_TRUE(spf);
  EXPECT_EQ(only(*spf, "spf").result, "softfail");
  EXPECT_EQ(only(*spf, "spf").property("smtp", "mailfrom"), "solsikken.no");
}

TEST(AuthResults, RfcExamples) {
  auto none = parse_authentication_results("example.org 1; none");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->authserv_id, "example.org");
  EXPECT_EQ(none->version, "1");
  EXPECT_TRUE(none->none);
  EXPECT_TRUE(none->results.empty());

  auto auth = parse_authentication_results(
      "example.com;\n  auth=pass (cram-md5) smtp.auth=sender@example.net;\n  spf=pass "
      "smtp.mailfrom=example.net");
  ASSERT_TRUE(auth);
  EXPECT_EQ(only(*auth, "auth").property("smtp", "auth"), "sender@example.net");
  EXPECT_EQ(only(*auth, "spf").result, "pass");

  // A method version, a reason, quoted authserv-id and values, CFWS around '=' and upper case.
  auto odd = parse_authentication_results(
      "\"mx.asker.kommune.no\"; DKIM/1 = FAIL reason=\"bad signature; sorry\" "
      "Header.D = solsikken.no; SPF=Pass smtp.mailfrom=\"kari@solsikken.no\"");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->authserv_id, "mx.asker.kommune.no");
  const MethodResult& dkim = only(*odd, "dkim");
  EXPECT_EQ(dkim.version, "1");
  EXPECT_EQ(dkim.result, "fail");
  EXPECT_EQ(dkim.reason, "bad signature; sorry");
  EXPECT_EQ(dkim.property("header", "d"), "solsikken.no");
  EXPECT_EQ(only(*odd, "spf").result, "pass");
  EXPECT_EQ(only(*odd, "spf").property("SMTP", "MailFrom"), "kari@solsikken.no");
}

TEST(AuthResults, NestedCommentsAndEscapes) {
  auto r = parse_authentication_results(
      "mx.x.no (our (inner; nested) host); spf=pass (a \\) b) smtp.mailfrom=a.no; dmarc=pass "
      "header.from=a.no");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->authserv_id, "mx.x.no");
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(r->results[0].comment, "a ) b");
  EXPECT_EQ(r->results[1].property("header", "from"), "a.no");
}

TEST(AuthResults, JunkBetweenResultsIsSkipped) {
  auto r = parse_authentication_results(
      "mx.x.no; spf=pass smtp.mailfrom=a.no; this is junk; =pass; spf; dkim=; "
      "dmarc=fail stray header.from=a.no");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(r->results[0].method, "spf");
  EXPECT_EQ(r->results[1].method, "dmarc");
  EXPECT_EQ(r->results[1].result, "fail");
  EXPECT_EQ(r->results[1].property("header", "from"), "a.no");
}

TEST(AuthResults, NothingReadableGivesNothing) {
  for (const char* junk : {"", "   ", ";;;", "; ; ;", "(only a comment)", "=====", "=pass",
                           "; =x; =y", "\"", "(", "; (unterminated"}) {
    EXPECT_FALSE(parse_authentication_results(junk)) << "'" << junk << "'";
  }
}

TEST(AuthResults, BrokenValuesNeverThrowAndKeepWhatTheyCan) {
  // An unterminated comment or quote runs to the end of the value.
  auto c = parse_authentication_results("mx.x.no; spf=pass (unterminated smtp.mailfrom=a.no");
  ASSERT_TRUE(c);
  EXPECT_EQ(only(*c, "spf").result, "pass");
  EXPECT_EQ(only(*c, "spf").property("smtp", "mailfrom"), "");
  auto q = parse_authentication_results("mx.x.no; dmarc=fail header.from=\"a.no; spf=pass");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->results.size(), 1u);
  EXPECT_EQ(q->results[0].property("header", "from"), "a.no; spf=pass");

  // Only an authserv-id: a host that wrote nothing else.
  auto id = parse_authentication_results("mx.x.no");
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->results.empty());
  EXPECT_FALSE(id->none);

  // Binary junk, huge values, every byte: no throw, no crash.
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_NO_THROW(parse_authentication_results(bytes));
  std::string huge = "mx.x.no";
  for (int i = 0; i < 20000; ++i) huge += "; spf=pass (x) smtp.mailfrom=a.no";
  auto h = parse_authentication_results(huge);
  ASSERT_TRUE(h);
  EXPECT_LE(h->results.size(), 200u);
  EXPECT_GT(h->results.size(), 0u);
  std::string deep(100000, '(');
  EXPECT_NO_THROW(parse_authentication_results("mx.x.no; spf=pass " + deep));
}

TEST(AuthResults, RandomJunkNeverThrows) {
  // Deterministic pseudo-random values from the characters the grammar cares about.
  const std::string alphabet = "ab.=;()\\\" \t\r\n/@x1";
  std::uint32_t seed = 12345;
  for (int n = 0; n < 5000; ++n) {
    std::string v;
    const int len = static_cast<int>(seed % 40);
    for (int i = 0; i < len; ++i) {
      seed = seed * 1103515245u + 12345u;
      v += alphabet[(seed >> 16) % alphabet.size()];
    }
    seed = seed * 1103515245u + 12345u;
    std::optional<AuthResults> r;
    EXPECT_NO_THROW(r = parse_authentication_results(v)) << v;
    if (r) {
      for (const auto& res : r->results) {
        EXPECT_FALSE(res.method.empty()) << v;
        EXPECT_FALSE(res.result.empty()) << v;
      }
    }
  }
}

}  // namespace
}  // namespace tilskudd::auth
