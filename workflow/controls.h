// Controls on automatic money (DECISIONS.md "Controls on automatic money"). Pure: the rules'
// decision, the form and `[controls]` in; the decision with what a person must see first out.
//
// - `over_auto_limit` (line): a line the rules would approve above `max_auto_line_amount`, and
//   every approved line of a case whose approved total is above `max_auto_case_amount`, is
//   flagged instead of approved; a person approves it (`cases resolve`) or not.
// - `audit_sample` (case): of the cases the rules would decide automatically (status `decided`
//   after every other check), those whose audit bucket (`audit_bucket`, 0-99) is below
//   `audit_sample_percent` are held for a person before the letter goes out;
//   `cases resolve REF --approve` releases them as the rules decided.
//
// Applied by `assess` after the rules and the sender checks, so `inspect` shows what the daemon
// does.
#pragma once

#include <vector>

#include "config/config.h"
#include "parsers/form.h"
#include "parsers/types.h"
#include "workflow/rules.h"

namespace tilskudd::controls {

// The case's audit bucket, 0-99, stable across restarts and re-assessments: the first four
// bytes (big-endian) of SHA-256 over "<org number digits>|<employee name keys, sorted, joined
// by ','>|<round deadline YYYY-MM-DD>", modulo 100. It depends on nothing the applicant can vary
// without changing the application itself (the line order does not count), and on nothing
// random, so a test can predict it. -1 when the decision has no round.
int audit_bucket(const Form& form, const rules::Decision& decision);

// Held for a person by the limits: the lines the rules approved above the line limit, or
// every approved line when the case's approved total is above the case limit, become
// `flagged` with `over_auto_limit` (amount 0, the bokmål reason from the flags registry).
// The decision's total, flags and status follow. Returns the flags added.
std::vector<Flag> apply_limits(rules::Decision& decision, const config::Controls& controls);

// When the decision is `decided` and the case's bucket is below the percentage: the case flag
// `audit_sample`, status `flagged`. Returns the flag added (or nothing).
std::vector<Flag> apply_audit_sample(rules::Decision& decision, const Form& form,
                                     const config::Controls& controls);

}  // namespace tilskudd::controls
