// Sender authenticity (DECISIONS.md "Sender authenticity"). Flag reasons are English and tell
// the saksbehandler what to check; they name domains, never people.
#include "workflow/sender_check.h"

#include <cstdint>

#include "parsers/text.h"
#include "workflow/flags.h"

namespace tilskudd::sender {

namespace {

// RFC 3492 Punycode of one label's code points (all parameters from the RFC).
std::string punycode(const std::vector<std::uint32_t>& cps) {
  constexpr std::uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
  auto digit = [](std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + d - 26); };
  auto adapt = [&](std::uint32_t delta, std::uint32_t points, bool first) {
    delta = first ? delta / damp : delta / 2;
    delta += delta / points;
    std::uint32_t k = 0;
    while (delta > ((base - tmin) * tmax) / 2) {
      delta /= base - tmin;
      k += base;
    }
    return k + (base - tmin + 1) * delta / (delta + skew);
  };
  std::string out;
  for (std::uint32_t c : cps) {
    if (c < 0x80) out += static_cast<char>(c);
  }
  const std::uint32_t basic = static_cast<std::uint32_t>(out.size());
  std::uint32_t handled = basic;
  if (basic > 0) out += '-';
  std::uint32_t n = 0x80, delta = 0, bias = 72;
  while (handled < cps.size()) {
    std::uint32_t m = UINT32_MAX;
    for (std::uint32_t c : cps) {
      if (c >= n && c < m) m = c;
    }
    // Labels are at most 63 bytes, so no overflow is possible for real input; junk gives up.
    if ((m - n) > (UINT32_MAX - delta) / (handled + 1)) return "";
    delta += (m - n) * (handled + 1);
    n = m;
    for (std::uint32_t c : cps) {
      if (c < n) ++delta;
      if (c == n) {
        std::uint32_t q = delta;
        for (std::uint32_t k = base;; k += base) {
          std::uint32_t t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
          if (q < t) break;
          out += digit(t + (q - t) % (base - t));
          q = (q - t) / (base - t);
        }
        out += digit(q);
        bias = adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

// UTF-8 to code points; nullopt for invalid UTF-8.
std::optional<std::vector<std::uint32_t>> code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    std::uint32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < len; ++k) {
      auto cb = static_cast<unsigned char>(s[i + k]);
      if ((cb >> 6) != 0x2) return std::nullopt;
      c = (c << 6) | (cb & 0x3F);
    }
    out.push_back(c);
    i += len;
  }
  return out;
}

std::string normalise_domain(std::string_view domain) {
  std::string d = text::to_lower(text::trim(domain));
  while (!d.empty() && d.back() == '.') d.pop_back();
  std::string out;
  std::size_t start = 0;
  while (start <= d.size()) {
    std::size_t dot = d.find('.', start);
    if (dot == std::string::npos) dot = d.size();
    std::string label = d.substr(start, dot - start);
    bool ascii = true;
    for (unsigned char c : label) ascii &= c < 0x80;
    if (!ascii) {
      auto cps = code_points(label);
      std::string ace = cps ? punycode(*cps) : "";
      label = ace.empty() ? label : "xn--" + ace;
    }
    out += (out.empty() && start == 0 ? "" : ".") + label;
    start = dot + 1;
  }
  return out;
}

std::size_t label_count(std::string_view d) {
  std::size_t n = 1;
  for (char c : d) n += c == '.';
  return n;
}

bool is_subdomain_of(std::string_view child, std::string_view parent) {
  return child.size() > parent.size() + 1 && child.ends_with(parent) &&
         child[child.size() - parent.size() - 1] == '.' && label_count(parent) >= 2;
}

// "dmarc=pass (mx.asker.kommune.no)" etc.: the results that matter, in a line.
std::string describe(const auth::AuthResults& r) {
  std::string s;
  for (const char* m : {"dmarc", "spf", "dkim", "compauth"}) {
    for (const auth::MethodResult* x : r.find(m)) {
      s += (s.empty() ? "" : ", ") + x->method + "=" + x->result;
      break;
    }
  }
  if (s.empty()) s = r.none ? "none" : "no results";
  return s + " (" + (r.has_authserv_id ? r.authserv_id : std::string("no authserv-id")) + ")";
}

// The verdict of one method when several results of it are given: any fail wins, then pass.
std::string verdict_of(const auth::AuthResults& r, std::string_view method) {
  std::string v;
  for (const auth::MethodResult* x : r.find(method)) {
    if (x->result == "fail") return "fail";
    if (x->result == "pass") v = "pass";
    if (v.empty()) v = x->result;
  }
  return v;
}

constexpr std::string_view kWhatToDo =
    "; the mail may not come from the applicant: confirm the application with the organisation "
    "(by a phone number or address you look up yourself, not one in the mail) before deciding it";

Flag unauthenticated(const std::string& why) {
  return make_flag(FlagCode::sender_unauthenticated, why + std::string(kWhatToDo));
}

}  // namespace

std::string address_domain(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view d = text::trim(address.substr(at + 1));
  if (!d.empty() && d.back() == '>') d.remove_suffix(1);
  return normalise_domain(d);
}

bool same_organisation_domain(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  return a == b || is_subdomain_of(a, b) || is_subdomain_of(b, a);
}

std::string recipient(std::string_view from_address, std::string_view contact_email) {
  const std::string contact(text::trim(contact_email));
  const std::string from(text::trim(from_address));
  if (contact.empty()) return from;
  if (same_organisation_domain(address_domain(from), address_domain(contact))) return contact;
  return from;
}

std::optional<auth::AuthResults> trusted_results(const mime::Headers& headers,
                                                 const config::Sender& settings) {
  for (const auto& [name, value] : headers.fields) {
    if (!text::iequals(name, "Authentication-Results")) continue;
    auto r = auth::parse_authentication_results(value);
    if (!r) continue;
    if (!r->has_authserv_id) {
      if (settings.accept_missing_authserv_id) return r;
      continue;
    }
    for (const auto& id : settings.authserv_ids) {
      if (text::iequals(id, r->authserv_id)) return r;
    }
  }
  return std::nullopt;
}

Verdict check(const mime::Headers& headers, const config::Sender& settings,
              std::string_view from_address, std::string_view contact_email) {
  Verdict v;
  const std::string from_domain = address_domain(from_address);
  // Several From mailboxes (DECISIONS.md "Sender authenticity"): none is the sender.
  const bool several = headers.from.size() > 1;
  if (several) {
    std::string list;
    for (const auto& a : headers.from)
      list += (list.empty() ? "" : ", ") +
              (a.address.empty() ? "\"" + a.display_name + "\"" : a.address);
    v.flags.push_back(make_flag(
        FlagCode::multiple_from,
        "the message names " + std::to_string(headers.from.size()) + " senders in From (" + list +
            "); which of them sent it cannot be told, so none is taken as the sender" +
            std::string(kWhatToDo)));
  }

  // 1. What our receiving host found.
  v.auth_checked = settings.checks_authentication();
  if (settings.fails_closed()) {
    // Fail closed: without our host's verdict nothing says who sent the mail.
    v.summary = "sender authentication not configured ([sender] authserv_ids is empty): held";
    v.flags.push_back(
        make_flag(FlagCode::sender_unverified,
                  "sender authentication is not configured ([sender] authserv_ids is empty and "
                  "accept_missing_authserv_id is false), so no case is decided automatically" +
                      std::string(kWhatToDo)));
  } else if (!v.auth_checked) {
    v.summary = "sender authentication not checked ([sender] require_authentication = false)";
  } else if (auto r = trusted_results(headers, settings); !r) {
    std::string hosts;
    for (const auto& id : settings.authserv_ids) hosts += (hosts.empty() ? "" : ", ") + id;
    if (settings.accept_missing_authserv_id) {
      hosts += std::string(hosts.empty() ? "" : ", ") + "Exchange Online";
    }
    v.summary = "no Authentication-Results from " + hosts;
    v.flags.push_back(unauthenticated(
        "the message has no Authentication-Results from our receiving host (" + hosts +
        "), so its sender could not be checked (did it reach the mailbox another way?)"));
  } else {
    v.summary = describe(*r);
    const std::string host = r->has_authserv_id ? r->authserv_id : std::string("Exchange Online");
    const std::string dmarc = verdict_of(*r, "dmarc");
    const std::string spf = verdict_of(*r, "spf");
    const std::string compauth = verdict_of(*r, "compauth");
    // The domain DMARC was evaluated for: it must be the From address's we read.
    std::string dmarc_domain;
    for (const auth::MethodResult* x : r->find("dmarc")) {
      if (x->result == "pass" && dmarc_domain.empty()) {
        dmarc_domain = normalise_domain(x->property("header", "from"));
      }
    }
    if (dmarc == "fail") {
      v.flags.push_back(unauthenticated(host + " found dmarc=fail for the sender's domain (" +
                                        (from_domain.empty() ? "?" : from_domain) + ")"));
    } else if (dmarc == "pass" && !dmarc_domain.empty() && !from_domain.empty() &&
               dmarc_domain != from_domain) {
      v.flags.push_back(unauthenticated(host + " found dmarc=pass for " + dmarc_domain +
                                        ", not for the From address's domain " + from_domain));
    } else if (dmarc == "pass") {
      // Enough: DMARC aligns the From domain with SPF or DKIM (SPF may fail when forwarded).
    } else if (compauth == "fail") {
      v.flags.push_back(unauthenticated(host +
                                        " found compauth=fail (Microsoft's verdict: the sender's "
                                        "domain does not authorise this mail)"));
    } else if (spf == "fail") {
      v.flags.push_back(unauthenticated(host + " found spf=fail and no DMARC verdict"));
    } else if (r->none || (dmarc.empty() && spf.empty())) {
      v.flags.push_back(unauthenticated(host + " reported no DMARC or SPF result for the message"));
    }
  }

  // 2. The From domain against the form's contact e-mail.
  if (settings.require_match_contact_domain && !text::trim(contact_email).empty()) {
    const std::string contact_domain = address_domain(contact_email);
    if (from_domain.empty() && several) {
      // multiple_from above says it.
    } else if (from_domain.empty()) {
      v.flags.push_back(make_flag(FlagCode::sender_domain_mismatch,
                                  "the message has no readable From address, so it cannot be "
                                  "matched to the form's e-mail address (domain " +
                                      (contact_domain.empty() ? std::string("?") : contact_domain) +
                                      "); check that the organisation sent it"));
    } else if (!contact_domain.empty() && !same_organisation_domain(from_domain, contact_domain)) {
      v.flags.push_back(make_flag(FlagCode::sender_domain_mismatch,
                                  "the mail was sent from " + from_domain +
                                      ", but the form's e-mail address is at " + contact_domain +
                                      "; check with the organisation (at a number you look up "
                                      "yourself) that the application is theirs and which "
                                      "address the decision goes to"));
    }
  }
  return v;
}

}  // namespace tilskudd::sender
