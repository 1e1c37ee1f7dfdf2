// Controls on automatic money (DECISIONS.md "Controls on automatic money").
#include "workflow/controls.h"

#include <algorithm>
#include <set>
#include <string>

#include "parsers/amount.h"
#include "parsers/ids.h"
#include "parsers/text.h"
#include "workflow/flags.h"
#include "workflow/sha256.h"

namespace tilskudd::controls {

namespace {

void hold_line(rules::LineDecision& line, const std::string& why, int year) {
  Flag f = make_flag(FlagCode::over_auto_limit, why);
  line.outcome = rules::Outcome::flagged;
  line.amount = 0;
  line.reason_code = f.code;
  line.reason = flag_letter_text(f.code, year);
  line.flags = {std::move(f)};
}

void recount(rules::Decision& d, const std::vector<Flag>& added) {
  d.total = 0;
  for (const auto& l : d.lines) {
    if (l.outcome == rules::Outcome::approved) d.total += l.amount;
  }
  for (const auto& f : added) {
    if (std::find(d.flags.begin(), d.flags.end(), f) == d.flags.end()) d.flags.push_back(f);
  }
  if (!added.empty()) {
    d.status = rules::CaseStatus::flagged;
    d.missing_documentation.clear();
  }
}

}  // namespace

int audit_bucket(const Form& form, const rules::Decision& decision) {
  if (!decision.round) return -1;
  std::set<std::string> keys;
  for (const auto& l : form.lines) keys.insert(text::name_key(l.employee));
  std::string material = digits_only(form.org_number) + "|";
  bool first = true;
  for (const auto& k : keys) {
    material += (first ? "" : ",") + k;
    first = false;
  }
  material += "|" + decision.round->deadline.iso();
  const std::string hex = sha256_hex(material);
  const unsigned long v = std::stoul(hex.substr(0, 8), nullptr, 16);
  return static_cast<int>(v % 100);
}

std::vector<Flag> apply_limits(rules::Decision& d, const config::Controls& c) {
  std::vector<Flag> added;
  const int year = d.round ? d.round->year : 0;
  for (auto& l : d.lines) {
    if (l.outcome != rules::Outcome::approved || l.amount <= c.max_auto_line_amount) continue;
    hold_line(l,
              "the rules would approve " + format_kr_prefix(l.amount) + " for " + l.employee +
                  ", above [controls] max_auto_line_amount (" +
                  format_kr_prefix(c.max_auto_line_amount) +
                  "); check the cost and the state's letter before approving",
              year);
    added.push_back(l.flags.front());
  }
  Kroner total = 0;
  for (const auto& l : d.lines) {
    if (l.outcome == rules::Outcome::approved) total += l.amount;
  }
  if (total > c.max_auto_case_amount) {
    for (auto& l : d.lines) {
      if (l.outcome != rules::Outcome::approved || l.amount <= 0) continue;
      hold_line(l,
                "the case's approved total would be " + format_kr_prefix(total) +
                    ", above [controls] max_auto_case_amount (" +
                    format_kr_prefix(c.max_auto_case_amount) + "); check every line",
                year);
      added.push_back(l.flags.front());
    }
  }
  recount(d, added);
  return added;
}

std::vector<Flag> apply_audit_sample(rules::Decision& d, const Form& form,
                                     const config::Controls& c) {
  if (d.status != rules::CaseStatus::decided || c.audit_sample_percent <= 0) return {};
  const int bucket = audit_bucket(form, d);
  if (bucket < 0 || bucket >= c.audit_sample_percent) return {};
  std::vector<Flag> added{make_flag(
      FlagCode::audit_sample,
      "drawn for the audit sample (bucket " + std::to_string(bucket) + " < audit_sample_percent " +
          std::to_string(c.audit_sample_percent) +
          "): check the automatic decision, then release it with `tilskudd cases resolve REF "
          "--approve` (or decide the lines yourself)")};
  recount(d, added);
  return added;
}

}  // namespace tilskudd::controls
