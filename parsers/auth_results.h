// RFC 8601 Authentication-Results header values: which host checked the message (authserv-id)
// and what it found (`spf=pass`, `dkim=fail`, `dmarc=pass`, ...). Pure and forgiving: junk never
// throws; what can be read is returned, and a value with nothing readable gives nullopt.
//
// Accepted beyond the RFC, because real receivers write it:
// - no authserv-id at all (Exchange Online / Microsoft 365: "spf=pass (sender IP is ...)
//   smtp.mailfrom=x.no; dkim=pass ...; dmarc=pass action=none header.from=x.no;compauth=pass
//   reason=100"): `has_authserv_id` is false;
// - properties without a ptype ("action=none"): `ptype` is "";
// - white space around '=' and '.', upper case anywhere, no space after ';'.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilskudd::auth {

// One "ptype.property=value" ("smtp.mailfrom=x.no", "header.from=x.no", "header.i=@x.no").
struct Property {
  std::string ptype;  // lower-case "smtp", "header", "body", "policy"; "" when not written
  std::string name;   // lower-case "mailfrom", "from", "d", ...
  std::string value;  // as written, unquoted
};

// One "method=result" with its reason, properties and comments.
struct MethodResult {
  std::string method;   // lower-case "spf", "dkim", "dmarc", "arc", "compauth", "iprev", ...
  std::string version;  // "1" for "dkim/1=pass"; "" when not written
  std::string result;   // lower-case "pass", "fail", "softfail", "none", "temperror", ...
  std::string reason;   // the reason= value, unquoted; "" when none
  std::vector<Property> properties;
  std::string comment;  // the comments of this result, joined with "; "

  // The first property with this ptype and name (case-insensitive); "" when absent. An empty
  // `ptype` matches a property written without one.
  std::string property(std::string_view ptype, std::string_view name) const;
};

struct AuthResults {
  bool has_authserv_id = false;
  std::string authserv_id;  // as written (unquoted); "" when the value has none
  std::string version;      // "1" when written after the authserv-id; else ""
  bool none = false;        // "authserv-id; none": the host checked nothing
  std::vector<MethodResult> results;

  // Every result of `method` (case-insensitive), in order.
  std::vector<const MethodResult*> find(std::string_view method) const;
};

// Parses one Authentication-Results value (the part after the colon; folded or unfolded).
// nullopt when neither an authserv-id nor any result could be read.
std::optional<AuthResults> parse_authentication_results(std::string_view value);

}  // namespace tilskudd::auth
