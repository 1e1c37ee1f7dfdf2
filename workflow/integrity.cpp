// Who may change a case, and the money invariants. See integrity.h.
#include "workflow/integrity.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "parsers/ids.h"
#include "parsers/text.h"
#include "workflow/sender_check.h"

namespace tilskudd::integrity {

namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string line_text(const FormLine& l) {
  return text::collapse_spaces(l.employee) + " | " + std::string(enum_name(l.programme)) + " | " +
         (l.cost ? std::to_string(*l.cost) : std::string("-"));
}

std::string lines_text(const std::vector<FormLine>& lines) {
  std::string out;
  for (const FormLine& l : lines) out += (out.empty() ? "" : "; ") + line_text(l);
  return out;
}

// The lines as a person compares them: by student, with programme and cost.
std::map<std::string, std::string> line_keys(const std::vector<FormLine>& lines) {
  std::map<std::string, std::string> out;
  for (const FormLine& l : lines) {
    out[text::name_key(l.employee)] += std::string(enum_name(l.programme)) + "/" +
                                       (l.cost ? std::to_string(*l.cost) : std::string("-")) + ";";
  }
  return out;
}

void compare(std::vector<FieldChange>& out, const char* field, const std::string& old_value,
             const std::string& new_value, const std::string& old_key, const std::string& new_key) {
  if (new_key.empty() || new_key == old_key) return;
  out.push_back({field, old_value, new_value});
}

}  // namespace

std::string normalise_address(std::string_view address) {
  std::string a(text::trim(address));
  if (!a.empty() && a.front() == '<') a.erase(0, 1);
  if (!a.empty() && a.back() == '>') a.pop_back();
  const auto at = a.rfind('@');
  if (at == std::string::npos || at == 0) return "";
  const std::string domain = sender::address_domain(a);
  if (domain.empty()) return "";
  return lower(text::trim(a.substr(0, at))) + "@" + domain;
}

bool is_contact(const std::vector<std::string>& contacts, std::string_view from,
                bool authenticated) {
  const std::string sender = normalise_address(from);
  if (sender.empty()) return false;
  for (const std::string& c : contacts) {
    const std::string contact = normalise_address(c);
    if (contact.empty()) continue;
    if (contact == sender) return true;
    if (authenticated && sender::same_organisation_domain(sender::address_domain(sender),
                                                          sender::address_domain(contact)))
      return true;
  }
  return false;
}

std::vector<FieldChange> form_changes(const Form& current, const Form& reply) {
  std::vector<FieldChange> out;
  compare(out, "owner", current.owner, reply.owner, text::name_key(current.owner),
          text::name_key(reply.owner));
  compare(out, "org_number", current.org_number, reply.org_number, digits_only(current.org_number),
          digits_only(reply.org_number));
  compare(out, "account_number", current.account_number, reply.account_number,
          digits_only(current.account_number), digits_only(reply.account_number));
  compare(out, "contact_email", current.contact_email, reply.contact_email,
          normalise_address(current.contact_email), normalise_address(reply.contact_email));
  if (!reply.lines.empty() && line_keys(reply.lines) != line_keys(current.lines))
    out.push_back({"lines", lines_text(current.lines), lines_text(reply.lines)});
  return out;
}

json changes_json(const std::vector<FieldChange>& changes) {
  json out = json::array();
  for (const FieldChange& c : changes)
    out.push_back({{"field", c.field}, {"old", c.old_value}, {"new", c.new_value}});
  return out;
}

std::vector<FieldChange> changes_from_json(const json& j) {
  std::vector<FieldChange> out;
  if (!j.is_array()) return out;
  for (const json& c : j) {
    if (!c.is_object()) continue;
    out.push_back(
        {c.value("field", std::string()), c.value("old", std::string()), c.value("new", "")});
  }
  return out;
}

void link_cases(Store& store, const CaseRecord& a, const CaseRecord& b, FlagCode why,
                const std::string& actor, Timestamp now) {
  const std::string code(flag_code(why));
  store.events().add_event(a.id, actor, "linked to " + b.ref + " (" + code + ")", now,
                           {{"linked_case", b.ref}, {"link", code}});
  store.events().add_event(b.id, actor, "linked to " + a.ref + " (" + code + ")", now,
                           {{"linked_case", a.ref}, {"link", code}});
}

std::vector<CaseLink> links(const std::vector<CaseEvent>& events) {
  std::vector<CaseLink> out;
  std::set<std::string> seen;
  for (const CaseEvent& e : events) {
    json d = json::parse(e.detail, nullptr, false);
    if (!d.is_object() || !d.contains("linked_case") || !d["linked_case"].is_string()) continue;
    CaseLink l{d["linked_case"].get<std::string>(), d.value("link", std::string()), e.at};
    if (seen.insert(l.ref + "\n" + l.code).second) out.push_back(std::move(l));
  }
  return out;
}

std::optional<std::string> payout_hold(const std::vector<CaseEvent>& events) {
  static const std::set<std::string> reviews = {"approve", "reject", "ask_documentation",
                                                "release_payout"};
  std::vector<const CaseEvent*> holding;
  for (const CaseEvent& e : events) {
    json d = json::parse(e.detail, nullptr, false);
    if (!d.is_object()) continue;
    if (e.actor.rfind("admin:", 0) == 0) {
      auto action = d.find("action");
      if (action != d.end() && action->is_string() && reviews.count(action->get<std::string>()))
        holding.clear();
      continue;
    }
    auto holds = d.find(kHoldsPayout);
    auto link = d.find("link");
    if ((holds != d.end() && holds->is_boolean() && holds->get<bool>()) ||
        (link != d.end() && link->is_string()))
      holding.push_back(&e);
  }
  if (holding.empty()) return std::nullopt;
  std::string out;
  for (const CaseEvent* e : holding) out += (out.empty() ? "" : "; ") + e->reason + " at " + e->at;
  return out;
}

std::vector<ProposedChange> proposed_changes(const std::vector<CaseEvent>& events) {
  std::map<std::int64_t, ProposedChange> by_row;
  for (const CaseEvent& e : events) {
    json d = json::parse(e.detail, nullptr, false);
    if (!d.is_object() || !d.contains("proposed_changes")) continue;
    ProposedChange p;
    p.message_row = d.value("message_row", std::int64_t{0});
    p.at = e.at;
    p.changes = changes_from_json(d["proposed_changes"]);
    by_row[p.message_row] = std::move(p);
  }
  std::vector<ProposedChange> out;
  for (auto& [row, p] : by_row) out.push_back(std::move(p));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<MoneyProblem> money_problems(Store& store, std::optional<std::int64_t> case_id,
                                         const std::string& round, int year,
                                         const config::Config& config,
                                         const std::vector<MoneyLine>& lines) {
  std::vector<MoneyProblem> out;
  std::optional<Kroner> cap;
  if (auto y = config.years.find(year); y != config.years.end())
    cap = y->second.cap_per_student_when_state_rejected;
  // This case's own counted amounts per student, over its lines so far.
  std::map<std::string, Kroner> own;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const MoneyLine& l = lines[i];
    if (l.amount <= 0) continue;
    Kroner counted = 0;
    std::string other_ref;
    for (const LedgerEntry& e : store.ledger().ledger_entries(year, l.employee_key)) {
      if (case_id && e.case_id == *case_id) continue;
      if (e.counts_toward_cap) counted += e.amount;
      if (!round.empty() && e.round == round && e.amount > 0 && other_ref.empty())
        other_ref = e.case_ref;
    }
    if (!other_ref.empty()) {
      out.push_back({i, FlagCode::already_approved_in_round,
                     "the student on line " + std::to_string(i + 1) + " was already approved in " +
                         other_ref + " in the round of " + round +
                         "; a student is paid at most once per round"});
      continue;
    }
    if (!l.counts_toward_cap || !cap) continue;
    own[l.employee_key] += l.amount;
    if (counted + own[l.employee_key] > *cap) {
      const Kroner left = std::max<Kroner>(0, *cap - counted - (own[l.employee_key] - l.amount));
      out.push_back({i, FlagCode::over_yearly_cap,
                     "line " + std::to_string(i + 1) + ": " + std::to_string(l.amount) +
                         " kr would take the student over the yearly cap of " +
                         std::to_string(*cap) + " kr for " + std::to_string(year) + "; " +
                         std::to_string(left) + " kr is left"});
    }
  }
  return out;
}

}  // namespace tilskudd::integrity
