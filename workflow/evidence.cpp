// Evidence (DECISIONS.md "Evidence: letters against the form's state column"): what the attached
// letters from Statsforvalteren establish for each employee line, and where they contradict the
// form's state column.
#include "workflow/evidence.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "parsers/amount.h"
#include "parsers/date.h"
#include "parsers/text.h"
#include "workflow/flags.h"

namespace tilskudd::rules {

namespace {

// What one letter (or a pool of letters) says about one line, before comparing with the form.
struct Settlement {
  StateStatus status = StateStatus::unknown;
  std::optional<Kroner> grant;
  int letter = -1;
  // Set when the letters themselves do not give one answer (they disagree, or several amounts of
  // which none fits): the flag to raise instead of comparing with the form.
  std::optional<Flag> problem;
};

std::string amounts_text(const std::vector<Kroner>& a) {
  std::string s;
  for (Kroner v : a) s += (s.empty() ? "" : ", ") + group_digits(v);
  return s.empty() ? "no amount" : s;
}

std::string letter_label(const std::vector<Letter>& letters, int i) {
  if (i < 0) return "the letters";
  const Letter& l = letters[static_cast<std::size_t>(i)];
  if (!l.filename.empty()) return "letter '" + l.filename + "'";
  return "letter #" + std::to_string(i + 1) + " (" + (l.source.empty() ? "text" : l.source) + ")";
}

bool decisive(LetterKind k) {
  return k != LetterKind::unknown;
}

StateStatus status_of(LetterKind k) {
  return k == LetterKind::grant       ? StateStatus::granted
         : k == LetterKind::rejection ? StateStatus::rejected
                                      : StateStatus::unknown;
}

// The form's claimed amount, when it claims a grant with an amount.
std::optional<Kroner> claimed_amount(const FormLine& line) {
  if (line.state_status == StateStatus::granted) return line.state_grant;
  return std::nullopt;
}

// Picks the granted amount for one line from a letter's amounts: one amount is the amount; with
// several, the form's claim confirms when it is one of them or their sum.
Settlement grant_from_amounts(const FormLine& line, const std::vector<Kroner>& amounts, int letter,
                              const std::vector<Letter>& letters) {
  Settlement s;
  s.status = StateStatus::granted;
  s.letter = letter;
  if (amounts.size() == 1) {
    s.grant = amounts.front();
  } else if (amounts.size() > 1) {
    auto claim = claimed_amount(line);
    Kroner sum = std::accumulate(amounts.begin(), amounts.end(), Kroner{0});
    if (claim &&
        (std::find(amounts.begin(), amounts.end(), *claim) != amounts.end() || *claim == sum)) {
      s.grant = claim;
    } else if (claim) {
      s.problem = make_flag(FlagCode::amount_mismatch,
                            "the form says the state granted " + line.employee + " kr " +
                                group_digits(*claim) + "; " + letter_label(letters, letter) +
                                " grants " + amounts_text(amounts) + " and none of them matches");
    } else {
      s.problem = make_flag(FlagCode::amount_unconfirmed,
                            letter_label(letters, letter) + " grants several amounts (" +
                                amounts_text(amounts) + ") and none is tied to " + line.employee);
    }
  }
  return s;
}

// Two settlements of the same line (from different letters): agree, or a problem.
Settlement merge(const Settlement& a, const Settlement& b, const FormLine& line,
                 const std::vector<Letter>& letters) {
  if (a.status == StateStatus::unknown) return b;
  if (b.status == StateStatus::unknown) return a;
  if (a.problem) return a;
  if (b.problem) return b;
  if (a.status != b.status) {
    Settlement s = a;
    s.problem = make_flag(
        FlagCode::state_status_mismatch,
        "the letters disagree about " + line.employee + ": " + letter_label(letters, a.letter) +
            " says " + std::string(enum_name(a.status)) + ", " + letter_label(letters, b.letter) +
            " says " + std::string(enum_name(b.status)));
    return s;
  }
  if (a.grant && b.grant && *a.grant != *b.grant) {
    Settlement s = a;
    s.problem = make_flag(FlagCode::amount_mismatch, "the letters disagree about " + line.employee +
                                                         ": " + letter_label(letters, a.letter) +
                                                         " grants kr " + group_digits(*a.grant) +
                                                         ", " + letter_label(letters, b.letter) +
                                                         " grants kr " + group_digits(*b.grant));
    return s;
  }
  return a.grant ? a : b;
}

// The form's claim against what the letters settled.
std::vector<Flag> compare(const FormLine& line, const Settlement& s,
                          const std::vector<Letter>& letters) {
  std::vector<Flag> flags;
  if (s.problem) {
    flags.push_back(*s.problem);
    return flags;
  }
  const std::string who = line.employee;
  const std::string src = letter_label(letters, s.letter);
  if (s.status == StateStatus::rejected) {
    if (line.state_status == StateStatus::granted) {
      flags.push_back(make_flag(
          FlagCode::state_status_mismatch,
          "the form says the state granted " + who +
              (line.state_grant ? " kr " + group_digits(*line.state_grant) : std::string()) +
              ", but " + src + " is a rejection"));
    }
  } else if (s.status == StateStatus::granted) {
    if (line.state_status == StateStatus::rejected) {
      flags.push_back(
          make_flag(FlagCode::state_status_mismatch,
                    "the form says the state rejected " + who + ", but " + src + " grants funds"));
    } else if (!s.grant) {
      flags.push_back(
          make_flag(FlagCode::amount_unconfirmed,
                    src + " is a grant that covers " + who + " but gives no amount for them"));
    } else if (line.state_status == StateStatus::granted && line.state_grant &&
               *line.state_grant != *s.grant) {
      flags.push_back(
          make_flag(FlagCode::amount_mismatch, "the form says the state granted " + who + " kr " +
                                                   group_digits(*line.state_grant) + ", " + src +
                                                   " grants kr " + group_digits(*s.grant)));
    }
  }
  return flags;
}

// Removes one occurrence of `v` from `pool`; true when it was there.
bool take(std::vector<std::pair<Kroner, int>>& pool, Kroner v, int* letter) {
  auto it = std::find_if(pool.begin(), pool.end(), [&](const auto& p) { return p.first == v; });
  if (it == pool.end()) return false;
  *letter = it->second;
  pool.erase(it);
  return true;
}

long day_number(Date d) {
  using namespace std::chrono;
  return static_cast<long>(sys_days{year{d.year} / month{static_cast<unsigned>(d.month)} /
                                    day{static_cast<unsigned>(d.day)}}
                               .time_since_epoch()
                               .count());
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

// Whether an unverified letter might hold the state's answer for `key` (an employee's
// name_key): it names that employee (`named` holds the name_keys of its entries), or names
// nobody.
bool might_cover(const Letter& l, const std::unordered_set<std::string>& named,
                 const std::string& key) {
  if (l.entries.empty()) return true;
  return named.count(key) > 0;
}

}  // namespace

bool is_state_address(std::string_view address, const std::vector<std::string>& domains) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string domain = text::to_lower(text::trim(address.substr(at + 1)));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  for (const auto& d : domains) {
    if (domain == d) return true;
    if (domain.size() > d.size() + 1 &&
        domain.compare(domain.size() - d.size(), d.size(), d) == 0 &&
        domain[domain.size() - d.size() - 1] == '.')
      return true;
  }
  return false;
}

bool decides_something(const Letter& l) {
  if (!l.readable) return false;
  if (decisive(l.kind)) return true;
  return std::any_of(l.entries.begin(), l.entries.end(),
                     [](const LetterEntry& e) { return decisive(e.kind); });
}

std::vector<std::string> verify_letter(const Letter& l, const LetterOrigin& origin, Date received,
                                       const Form& form, const config::Evidence& rules) {
  std::vector<std::string> failed;
  if (!decides_something(l)) return failed;
  if (l.sender.empty())
    failed.push_back("it does not name Statsforvalteren or Fylkesmannen as its sender");
  if (!l.date || !l.date->valid()) {
    failed.push_back("it has no date");
  } else if (received.valid()) {
    long age = day_number(received) - day_number(*l.date);
    if (age < 0) {
      failed.push_back("it is dated " + l.date->iso() + ", after the message was received (" +
                       received.iso() + ")");
    } else if (age > rules.max_letter_age_days) {
      failed.push_back("it is dated " + l.date->iso() + ", more than " +
                       std::to_string(rules.max_letter_age_days) +
                       " days before the message was received (" + received.iso() + ")");
    }
  }
  if (!l.names_org_number && !l.names_owner) {
    std::string who;
    if (!form.org_number.empty()) who = "organisation number " + form.org_number;
    if (!form.owner.empty()) who += (who.empty() ? "" : " or ") + ("'" + form.owner + "'");
    failed.push_back("it does not name the applicant" + (who.empty() ? "" : " (" + who + ")"));
  }
  if (origin.channel == LetterChannel::forwarded &&
      !is_state_address(origin.original_sender, rules.state_domains)) {
    failed.push_back(origin.original_sender.empty()
                         ? "it is text in the applicant's own message, not a message forwarded "
                           "from a state address (" +
                               join(rules.state_domains, ", ") + ")"
                         : "it is forwarded from " + origin.original_sender +
                               ", not from a state address (" + join(rules.state_domains, ", ") +
                               ")");
  }
  return failed;
}

void check_letter(Letter& letter, const LetterOrigin& origin, Date received, const Form& form,
                  const config::Evidence& rules) {
  letter.failed_checks = verify_letter(letter, origin, received, form, rules);
  if (letter.failed_checks.empty()) return;
  std::string name = !letter.filename.empty() ? "letter '" + letter.filename + "'"
                                              : "the letter in the message body";
  letter.flags.push_back(make_flag(FlagCode::letter_unverified,
                                   name +
                                       " does not count as the state's letter and settles "
                                       "nothing: " +
                                       join(letter.failed_checks, "; ")));
}

std::vector<LineEvidence> match_evidence(const Form& form, const std::vector<Letter>& letters,
                                         Budget* budget) {
  const std::size_t n = form.lines.size();
  std::vector<Settlement> settled(n);
  std::vector<std::string> keys;
  // The lines of each name_key, in form order: a letter's entry finds its lines in one look-up.
  std::unordered_map<std::string, std::vector<std::size_t>> lines_of;
  for (std::size_t i = 0; i < n; ++i) {
    keys.push_back(text::name_key(form.lines[i].employee));
    lines_of[keys.back()].push_back(i);
  }
  const auto spent = [&] { return budget && budget->spent(); };

  // 1. Letters that name employees apply to those lines, each entry with its own kind/amount.
  std::vector<int> unnamed_grants, unnamed_rejections;
  for (std::size_t li = 0; li < letters.size(); ++li) {
    if (spent()) return std::vector<LineEvidence>(n);
    const Letter& letter = letters[li];
    const int idx = static_cast<int>(li);
    if (!letter.readable || !letter.verified()) continue;
    if (letter.entries.empty()) {
      if (letter.kind == LetterKind::grant) unnamed_grants.push_back(idx);
      if (letter.kind == LetterKind::rejection) unnamed_rejections.push_back(idx);
      continue;
    }
    // Amounts the letter gives without tying them to an entry, for entries without their own.
    std::vector<Kroner> loose = letter.amounts;
    for (const auto& e : letter.entries) {
      if (!e.amount) continue;
      auto it = std::find(loose.begin(), loose.end(), *e.amount);
      if (it != loose.end()) loose.erase(it);
    }
    std::vector<std::pair<std::size_t, Settlement>> pending_amount;  // line, settlement
    for (const auto& e : letter.entries) {
      LetterKind kind = decisive(e.kind) ? e.kind : letter.kind;
      if (!decisive(kind)) continue;
      const auto lines = lines_of.find(text::name_key(e.employee));
      if (lines == lines_of.end()) continue;
      for (std::size_t i : lines->second) {
        Settlement s;
        s.status = status_of(kind);
        s.letter = idx;
        if (kind == LetterKind::grant) {
          if (!e.amount_doubt.empty()) {
            // The letter's own total disagrees with the amounts of the names it lists
            // (DECISIONS.md "Letters that list names"): no amount of it is confirmed.
            s.problem =
                make_flag(FlagCode::amount_unconfirmed,
                          letter_label(letters, idx) + " lists " + form.lines[i].employee +
                              " among names whose amounts do not add up: " + e.amount_doubt);
          } else if (e.amount) {
            s.grant = e.amount;
          } else if (letter.entries.size() == 1) {
            s = grant_from_amounts(form.lines[i], letter.amounts, idx, letters);
          } else {
            pending_amount.emplace_back(i, s);
            continue;
          }
        }
        settled[i] = merge(settled[i], s, form.lines[i], letters);
      }
    }
    // Several named grants without their own amounts: the loose amounts matched to the claims
    // one to one; a single leftover amount for a single leftover entry is that entry's.
    std::vector<std::pair<std::size_t, Settlement>> unmatched;
    for (auto& [i, s] : pending_amount) {
      auto claim = claimed_amount(form.lines[i]);
      auto it = claim ? std::find(loose.begin(), loose.end(), *claim) : loose.end();
      if (it != loose.end()) {
        s.grant = *it;
        loose.erase(it);
        settled[i] = merge(settled[i], s, form.lines[i], letters);
      } else {
        unmatched.emplace_back(i, s);
      }
    }
    if (unmatched.size() == 1 && loose.size() == 1) unmatched.front().second.grant = loose.front();
    for (auto& [i, s] : unmatched) settled[i] = merge(settled[i], s, form.lines[i], letters);
  }

  // 2. Letters that name nobody apply to the lines no named letter settled.
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < n; ++i) {
    if (settled[i].status == StateStatus::unknown && !settled[i].problem) open.push_back(i);
  }
  std::vector<std::pair<Kroner, int>> pool;  // granted amounts of the unnamed grant letters
  for (int g : unnamed_grants) {
    for (Kroner a : letters[static_cast<std::size_t>(g)].amounts) pool.emplace_back(a, g);
  }
  std::vector<Kroner> pool_amounts;
  for (const auto& p : pool) pool_amounts.push_back(p.first);

  if (!open.empty() && (!unnamed_grants.empty() || !unnamed_rejections.empty())) {
    const bool grants = !unnamed_grants.empty();
    const bool rejections = !unnamed_rejections.empty();
    if (open.size() == 1) {
      // One line: every unnamed letter is about it.
      const std::size_t i = open.front();
      const FormLine& line = form.lines[i];
      if (grants && rejections) {
        Settlement s;
        s.status = StateStatus::granted;
        s.letter = unnamed_grants.front();
        s.problem =
            make_flag(FlagCode::state_status_mismatch,
                      "the letters disagree about " + line.employee + ": " +
                          letter_label(letters, unnamed_grants.front()) + " grants funds, " +
                          letter_label(letters, unnamed_rejections.front()) + " is a rejection");
        settled[i] = s;
      } else if (rejections) {
        settled[i].status = StateStatus::rejected;
        settled[i].letter = unnamed_rejections.front();
      } else {
        settled[i] = grant_from_amounts(line, pool_amounts, unnamed_grants.front(), letters);
      }
    } else if (!grants) {
      // Only rejections: the letter applies to every open line.
      for (std::size_t i : open) {
        settled[i].status = StateStatus::rejected;
        settled[i].letter = unnamed_rejections.front();
      }
    } else {
      // Several lines and grant letters naming nobody: amounts matched to the claims one to one;
      // a single amount equal to the sum of the claims confirms them all.
      std::vector<std::size_t> claimers;
      Kroner claim_sum = 0;
      for (std::size_t i : open) {
        if (auto c = claimed_amount(form.lines[i])) {
          claimers.push_back(i);
          claim_sum += *c;
        }
      }
      std::vector<std::size_t> left;  // open lines the amounts did not settle yet
      if (pool.size() == 1 && claimers.size() >= 2 && pool.front().first == claim_sum) {
        for (std::size_t i : claimers) {
          settled[i].status = StateStatus::granted;
          settled[i].grant = claimed_amount(form.lines[i]);
          settled[i].letter = pool.front().second;
        }
        pool.clear();
        for (std::size_t i : open) {
          if (settled[i].status == StateStatus::unknown) left.push_back(i);
        }
      } else {
        for (std::size_t i : open) {
          int letter = -1;
          auto c = claimed_amount(form.lines[i]);
          if (c && take(pool, *c, &letter)) {
            settled[i].status = StateStatus::granted;
            settled[i].grant = c;
            settled[i].letter = letter;
          } else {
            left.push_back(i);
          }
        }
      }
      // With rejection letters too, a line that claims a rejection is settled by them, and a
      // line that claims nothing stays open (we cannot tell which letter is its).
      std::vector<std::size_t> candidates;
      for (std::size_t i : left) {
        const FormLine& line = form.lines[i];
        if (rejections && line.state_status == StateStatus::rejected) {
          settled[i].status = StateStatus::rejected;
          settled[i].letter = unnamed_rejections.front();
        } else if (rejections && line.state_status == StateStatus::unknown) {
          continue;
        } else {
          candidates.push_back(i);
        }
      }
      // One amount left for one line: it is that line's.
      if (candidates.size() == 1 && pool.size() == 1) {
        const std::size_t i = candidates.front();
        settled[i].status = StateStatus::granted;
        settled[i].grant = pool.front().first;
        settled[i].letter = pool.front().second;
        pool.clear();
      } else {
        for (std::size_t i : candidates) {
          const FormLine& line = form.lines[i];
          Settlement s;
          s.status = StateStatus::granted;
          s.letter = unnamed_grants.front();
          auto c = claimed_amount(line);
          if (c && !pool_amounts.empty()) {
            s.problem =
                make_flag(FlagCode::amount_mismatch,
                          "the form says the state granted " + line.employee + " kr " +
                              group_digits(*c) + "; the grant letters give " +
                              amounts_text(pool_amounts) + " and no amount is left that matches");
          }
          // Without a matching amount, compare() reports amount_unconfirmed, or
          // state_status_mismatch when the form claims a rejection.
          settled[i] = s;
        }
      }
    }
  }

  // 3. Results, compared with the form; unreadable letters might hold any open line's answer.
  const bool any_unreadable =
      std::any_of(letters.begin(), letters.end(), [](const Letter& l) { return !l.readable; });
  std::vector<std::unordered_set<std::string>> named(letters.size());  // entries' name_keys
  for (std::size_t li = 0; li < letters.size(); ++li) {
    if (letters[li].verified()) continue;
    for (const auto& e : letters[li].entries) named[li].insert(text::name_key(e.employee));
  }
  std::vector<LineEvidence> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (spent()) return std::vector<LineEvidence>(n);
    const Settlement& s = settled[i];
    LineEvidence& ev = out[i];
    ev.status = s.status;
    ev.grant = s.status == StateStatus::granted ? s.grant : std::nullopt;
    ev.letter = s.letter;
    ev.flags = compare(form.lines[i], s, letters);
    ev.unreadable_letter = any_unreadable && s.status == StateStatus::unknown && ev.flags.empty();
    // A letter that failed the checks might have held this line's answer: a person looks.
    if (s.status == StateStatus::unknown && ev.flags.empty()) {
      for (std::size_t li = 0; li < letters.size(); ++li) {
        const Letter& l = letters[li];
        if (l.verified() || !might_cover(l, named[li], keys[i])) continue;
        ev.flags.push_back(make_flag(
            FlagCode::letter_unverified,
            "the state's answer for " + form.lines[i].employee + " is only in " +
                letter_label(letters, static_cast<int>(li)) +
                ", which does not count as the state's letter: " + join(l.failed_checks, "; ")));
        break;
      }
    }
  }
  return out;
}

}  // namespace tilskudd::rules
