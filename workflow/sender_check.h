// Sender authenticity (DECISIONS.md "Sender authenticity"). Pure: the message's headers, the
// `[sender]` settings, the From address and the form's contact e-mail in; the flags that hold the
// case for a person out.
//
// - `sender_unauthenticated`: our trusted receiving host (its authserv-id is in
//   `authserv_ids`) reported dmarc=fail; or, with no DMARC verdict, compauth=fail (Microsoft 365)
//   or spf=fail; or it reported nothing usable (no field, "none", neither DMARC nor SPF); or
//   DMARC passed for another domain than the From address's. Only when the check is on.
// - `sender_unverified`: the check is required (`require_authentication`, the default) but not
//   configured (no `authserv_ids`, no `accept_missing_authserv_id`): fail closed, every case
//   waits for a person.
// - `sender_domain_mismatch`: the From address's domain is not the contact e-mail's domain, nor
//   a subdomain of it, nor its parent (`same_organisation_domain`). When
//   `require_match_contact_domain` is set and the form gives an e-mail address.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "parsers/auth_results.h"
#include "parsers/mime.h"
#include "parsers/types.h"

namespace tilskudd::sender {

struct Verdict {
  std::vector<Flag> flags;    // blocking; empty when nothing is wrong (or nothing was checked)
  bool auth_checked = false;  // the Authentication-Results check is on
  std::string summary;        // short English for the log: "dmarc=pass (mx.asker.kommune.no)"
};

Verdict check(const mime::Headers& headers, const config::Sender& settings,
              std::string_view from_address, std::string_view contact_email);

// The Authentication-Results our trusted host wrote: the topmost field (the last one added on
// the way in) whose authserv-id is one of `settings.authserv_ids` (case-insensitive), or that
// has none when `accept_missing_authserv_id`. nullopt when there is none.
std::optional<auth::AuthResults> trusted_results(const mime::Headers& headers,
                                                 const config::Sender& settings);

// The domain of an address, normalised for comparison: lower-case, no trailing dot, labels
// with non-ASCII letters in their IDNA ACE form ("blåbær.no" -> "xn--blbr-roah.no").
// "" when the address has no '@' or nothing after it.
std::string address_domain(std::string_view address);

// Two normalised domains belong to the same organisation when they are equal or one is a
// subdomain of the other ("mail.solsikken.no" / "solsikken.no"). The parent must have at least
// two labels. Sibling subdomains ("asker.kommune.no" / "baerum.kommune.no") do not match:
// without the Public Suffix List a shared suffix cannot be told from an organisation's domain.
bool same_organisation_domain(std::string_view a, std::string_view b);

// Where our letters go (DECISIONS.md "Sender authenticity"): to the form's contact e-mail only
// when it is in the sender's organisation domain (`same_organisation_domain`); otherwise, or
// when the form gives none, to the sender's From address, the one address our receiving host
// vouched for (when the check is on). "" when there is neither.
std::string recipient(std::string_view from_address, std::string_view contact_email);

}  // namespace tilskudd::sender
