// The money invariants (docs/DECISIONS.md "The money ledger", "Who may change a case") under
// seeded random sequences of what a mailbox and a saksbehandler do: applications from the
// organisations' contacts and from strangers, replies with letters or changed forms, the same
// mail again, the same application again, and `cases resolve` approvals (with and without an
// amount) and rejections. After every step, on the store:
// - no student has two approvals (ledger rows with an amount) in one round;
// - no student's amounts counted toward rule 5's cap exceed the year's cap;
// - every ledger row is an approved line of a decided case, with that amount, and every decided
//   case's approved lines are in the ledger once; no approved amount exceeds the line's cost;
// - no case's account number or contact e-mail changed after it was created.
// A failure names the seed and the step. CI runs a fixed set of seeds; TILSKUDD_MONEY_SEEDS=N
// runs N more, from the time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "parsers/mime.h"
#include "parsers/text.h"
#include "tests/support/support.h"
#include "workflow/intake.h"
#include "workflow/integrity.h"
#include "workflow/outgoing.h"
#include "workflow/resolve.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

struct Student {
  std::string name;
  std::string programme;  // as the form writes it
};

struct Org {
  std::string owner;
  std::string org_number;
  std::string contact;            // the organisation's own address
  std::string account;            // valid mod-11
  std::vector<Student> students;  // on tests/corpus/roster-2020.csv for this organisation
};

// Organisations and students of the corpus roster (2020).
const std::vector<Org>& orgs() {
  static const std::vector<Org> o = {
      {"Trollstua Barnehage BA",
       "913662040",
       "hilde.granli@trollstua.no",
       "18224015832",
       {{"Maria Olsen", "ABLU"}, {"Guro Tangen", "ABLU"}, {"Halvor Lund", "BLU deltid"}}},
      {"Vettre Gårdsbarnehage AS",
       "924335211",
       "ragnhild.boe@vettregard.no",
       "12071839948",
       {{"Kristian Aas", "ABLU"}, {"Vilde Engen", "BLU deltid"}}},
      {"Solsikken Barnehage AS",
       "921456786",
       "kari.nordmann@solsikken-bhg.no",
       "15031234562",
       {{"Ingrid Solberg", "ABLU"}, {"Kjersti Haug", "ABLU"}, {"Frida Solheim", "ABLU"}}},
  };
  return o;
}

const char* kStranger = "eve@evil.example";
const char* kStrangerAccount = "15031234570";

std::string kroner_text(Kroner k) {
  std::string d = std::to_string(k), out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && (d.size() - i) % 3 == 0) out += ' ';
    out += d[i];
  }
  return out;
}

// One line of a form: the student, the cost, and what the form says of the state's answer.
struct Line {
  Student student;
  Kroner cost = 0;
  std::string state;  // "granted", "rejected", "unknown"
  Kroner grant = 0;
};

std::string form_text(const Org& org, const std::string& email, const std::string& account,
                      const std::vector<Line>& lines, int ref) {
  std::string f =
      "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\r\n"
      "Saksnummer: 20/30298\r\nBarnehageeier: " +
      org.owner + "\r\nOrganisasjonsnummer: " + org.org_number + "\r\nBarnehage: " + org.owner +
      "\r\nKontaktperson: Kontakt\r\nE-post: " + email + "\r\nKontonummer: " + account +
      "\r\nDeres referanse: R-" + std::to_string(ref) +
      "\r\n\r\nNavn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n";
  for (const Line& l : lines) {
    const std::string state = l.state == "granted"    ? kroner_text(l.grant)
                              : l.state == "rejected" ? std::string("avslag")
                                                      : std::string("ikke mottatt");
    f += l.student.name + " | " + l.student.programme + " | OsloMet | " + kroner_text(l.cost) +
         " | " + state + "\r\n";
  }
  return f;
}

// The state's letter for one line, as a text attachment.
std::string letter_text(const Org& org, const Line& l) {
  std::string t =
      "Statsforvalteren i Oslo og Viken\r\n\r\nVår dato: 01.08.2020    Vår ref.: 2020/4711\r\n"
      "\r\n" +
      org.owner + "\r\nOrg.nr. " + org.org_number + "\r\n\r\n";
  if (l.state == "granted") {
    t += "Tildeling av tilretteleggingsmidler for barnehagelærerutdanning 2020\r\n\r\nVedtak\r\n"
         "Statsforvalteren tildeler " +
         org.owner + " kr " + kroner_text(l.grant) + " i tilretteleggingsmidler\r\nfor " +
         l.student.name + ", som tar " + l.student.programme + " ved OsloMet.\r\n";
  } else {
    t += "Avslag på søknad om tilretteleggingsmidler - " + l.student.name +
         "\r\n\r\nVedtak\r\nSøknaden om tilretteleggingsmidler for " + l.student.name +
         " avslås.\r\n";
  }
  return t + "\r\nMed hilsen\r\nNina Bakke\r\n";
}

std::string mail(const std::string& from, const std::string& subject, const std::string& message_id,
                 const std::string& in_reply_to, const std::string& body,
                 const std::vector<std::string>& letters) {
  std::string r = "From: " + from + "\r\nTo: post@asker.kommune.no\r\nSubject: " + subject +
                  "\r\nMessage-ID: <" + message_id + ">\r\n";
  if (!in_reply_to.empty())
    r += "In-Reply-To: <" + in_reply_to + ">\r\nReferences: <" + in_reply_to + ">\r\n";
  r += "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_m\"\r\n\r\n"
       "--=_m\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
       "\r\n" +
       body + "\r\n";
  for (std::size_t i = 0; i < letters.size(); ++i) {
    r += "--=_m\r\nContent-Type: text/plain; charset=utf-8; name=\"brev" + std::to_string(i) +
         ".txt\"\r\nContent-Disposition: attachment; filename=\"brev" + std::to_string(i) +
         ".txt\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + letters[i] + "\r\n";
  }
  return r + "--=_m--\r\n";
}

class MoneyInvariants : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path shm("/dev/shm");
    const fs::path base = fs::is_directory(shm) ? shm : fs::temp_directory_path();
    dir_ = base / ("tilskudd_money_" + std::to_string(::getpid()));
    cfg_ = config::load(testing::source_dir() / "tests" / "corpus" / "config.toml");
    settings_.config = &cfg_;
    settings_.templates =
        outgoing::load_templates(fs::path(TILSKUDD_SOURCE_DIR) / "config" / "templates");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One seeded sequence of `steps` steps on a fresh store; returns "" or what broke.
  std::string run(std::uint32_t seed, int steps) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Store store = Store::open((dir_ / "t.db").string());
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    auto chance = [&](int percent) { return pick(100) < percent; };
    Timestamp now = sys_days{year{2020} / August / day{3}} + hours{8};
    std::deque<std::string> raws;
    std::vector<std::string> sent;  // every message so far, for "the same mail again"
    std::map<std::int64_t, std::pair<std::string, std::string>> first_seen;  // account, contact
    std::uint32_t uid = 0;
    int ref = 0;
    std::string log;

    auto deliver = [&](const std::string& raw) {
      raws.push_back(raw);
      IncomingMessage m;
      m.mailbox = "INBOX";
      m.uidvalidity = 1;
      m.uid = ++uid;
      m.message_id = mime::parse(raws.back()).headers.message_id;
      m.raw = raws.back();
      m.received = iso_utc(now);
      sent.push_back(raw);
      IntakeOutcome out = intake_message(store, m, settings_, now);
      log += std::string(intake_kind_name(out.kind)) +
             (out.case_record ? " " + out.case_record->ref : std::string()) + "\n";
    };
    auto random_lines = [&](const Org& org) {
      std::vector<Line> lines;
      std::vector<int> idx(org.students.size());
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
      std::shuffle(idx.begin(), idx.end(), rng);
      const int n = 1 + pick(2);
      for (int i = 0; i < n && i < static_cast<int>(idx.size()); ++i) {
        Line l;
        l.student = org.students[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)])];
        static const Kroner costs[] = {50000, 80000, 95000, 120000};
        l.cost = costs[pick(4)];
        const int s = pick(3);
        l.state = s == 0 ? "granted" : s == 1 ? "rejected" : "unknown";
        l.grant = l.state == "granted" ? 40000 : 0;
        lines.push_back(l);
      }
      return lines;
    };
    auto letters_for = [&](const Org& org, std::vector<Line> lines, bool all) {
      std::vector<std::string> out;
      for (Line& l : lines) {
        if (!all && chance(50)) continue;
        if (l.state == "unknown") {
          l.state = chance(50) ? "granted" : "rejected";
          l.grant = 40000;
        }
        out.push_back(letter_text(org, l));
      }
      return out;
    };

    for (int step = 0; step < steps; ++step) {
      now += hours{24 * (1 + pick(4))};
      const std::vector<CaseRecord> cases = store.cases().list_cases();
      const int what = cases.empty() ? 0 : pick(9);
      std::string did;
      try {
        if (what <= 2) {  // a new application, now and then from a stranger
          const Org& org = orgs()[static_cast<std::size_t>(pick(3))];
          const bool stranger = chance(20);
          const std::string email = stranger ? kStranger : org.contact;
          const std::vector<Line> lines = random_lines(org);
          const std::vector<std::string> letters =
              chance(60) ? letters_for(org, lines, chance(50)) : std::vector<std::string>{};
          did = "application " + org.org_number + (stranger ? " from a stranger" : "");
          deliver(
              mail(email, "Søknad 20/30298",
                   "app-" + std::to_string(seed) + "-" + std::to_string(step) + "@x.example", "",
                   form_text(org, email, stranger ? kStrangerAccount : org.account, lines, ++ref),
                   letters));
        } else if (what <= 5) {  // a reply to a case: from its contact or a stranger
          const CaseRecord& c =
              cases[static_cast<std::size_t>(pick(static_cast<int>(cases.size())))];
          const Org* org = nullptr;
          for (const Org& o : orgs()) {
            if (o.org_number == c.org_number) org = &o;
          }
          if (!org) continue;
          const bool stranger = chance(25);
          const std::string from = stranger ? kStranger : c.contact_email;
          std::vector<Line> lines;
          for (const CaseLine& l : c.lines) {
            for (const Student& s : org->students) {
              if (text::name_key(s.name) == l.employee_key)
                lines.push_back(
                    {s, l.cost.value_or(80000), std::string(enum_name(l.state_status)), 40000});
            }
          }
          std::string body = "Hei.";
          if (chance(30)) {  // a form: changed account, or other lines
            body = form_text(*org, from, chance(50) ? kStrangerAccount : org->account,
                             chance(50) ? random_lines(*org) : lines, ++ref);
          }
          std::string in_reply_to;
          const auto outbox = store.outbox().outbox_for_case(c.id);
          if (!outbox.empty() && chance(70)) in_reply_to = outbox.back().message_id;
          if (in_reply_to.starts_with("<")) in_reply_to = in_reply_to.substr(1);
          if (in_reply_to.ends_with(">")) in_reply_to.pop_back();
          did = "reply to " + c.ref + (stranger ? " from a stranger" : "");
          deliver(mail(from, "Sv: " + c.ref,
                       "re-" + std::to_string(seed) + "-" + std::to_string(step) + "@x.example",
                       in_reply_to, body, letters_for(*org, lines, chance(50))));
        } else if (what == 6) {  // the same mail again, or the same application again
          const std::string& old =
              sent[static_cast<std::size_t>(pick(static_cast<int>(sent.size())))];
          if (chance(50)) {
            did = "the same mail again";
            deliver(old);
          } else {
            did = "the same application again";
            std::string again = old;
            const auto at = again.find("Message-ID: <");
            if (at == std::string::npos) continue;
            again.insert(at + 13, "again-" + std::to_string(step) + "-");
            deliver(again);
          }
        } else {  // a person: approve (with or without an amount) or reject
          std::vector<CaseRecord> open;
          for (const CaseRecord& c : cases) {
            if (c.state == CaseState::flagged || c.state == CaseState::needs_documentation)
              open.push_back(c);
          }
          if (open.empty()) continue;
          const CaseRecord& c = open[static_cast<std::size_t>(pick(static_cast<int>(open.size())))];
          ResolveRequest r;
          r.admin = "saksbehandler";
          const int kind = pick(4);
          r.action = kind == 3 ? ResolveRequest::Action::reject : ResolveRequest::Action::approve;
          if (!c.lines.empty() && chance(60)) r.line = 1 + pick(static_cast<int>(c.lines.size()));
          if (kind == 1 || kind == 2 || kind == 3) r.note = "Vurdert av saksbehandler.";
          if (kind == 2) {
            static const Kroner amounts[] = {10000, 40000, 75000, 90000};
            r.amount = amounts[pick(4)];
          }
          did = std::string(resolve_action_name(r.action)) + " " + c.ref +
                (r.line ? " line " + std::to_string(*r.line) : std::string()) +
                (r.amount ? " amount " + std::to_string(*r.amount) : std::string());
          try {
            resolve_case(store, c.ref, r, settings_, now);
            log += "resolved\n";
          } catch (const ResolveError& e) {
            log += std::string("refused: ") + e.what() + "\n";
          }
        }
      } catch (const std::exception& e) {
        return "seed " + std::to_string(seed) + " step " + std::to_string(step) + " (" + did +
               "): threw " + e.what() + "\n" + log;
      }
      const std::string broken = check(store, first_seen);
      if (!broken.empty())
        return "seed " + std::to_string(seed) + " step " + std::to_string(step) + " (" + did +
               "): " + broken + "\n" + log;
    }
    return "";
  }

  // The invariants; "" when they hold.
  std::string check(Store& store,
                    std::map<std::int64_t, std::pair<std::string, std::string>>& first_seen) {
    std::map<std::pair<std::string, std::string>, int> per_round;  // (round, student) -> rows
    std::map<std::pair<int, std::string>, Kroner> counted;         // (year, student) -> kr
    std::map<std::pair<std::int64_t, std::string>, int> rows_of;   // (case, student) -> rows
    for (const LedgerEntry& e : store.ledger().ledger_entries(std::nullopt, std::nullopt)) {
      if (e.amount <= 0) continue;
      if (++per_round[{e.round, e.employee_key}] > 1)
        return e.employee_key + " approved twice in the round " + e.round;
      if (e.counts_toward_cap) counted[{e.year, e.employee_key}] += e.amount;
      ++rows_of[{e.case_id, e.employee_key}];
      const auto c = store.cases().find_case(e.case_id);
      if (!c || c->state == CaseState::received || c->state == CaseState::needs_documentation ||
          c->state == CaseState::flagged)
        return "a ledger row of " + e.case_ref + " whose case is not decided";
      bool found = false;
      for (const CaseLine& l : c->lines)
        found |= l.employee_key == e.employee_key && l.outcome == rules::Outcome::approved &&
                 l.amount == e.amount;
      if (!found) return "a ledger row of " + e.case_ref + " that is no approved line";
    }
    for (const auto& [key, kr] : counted) {
      const Kroner cap = cfg_.years.at(key.first).cap_per_student_when_state_rejected.value_or(0);
      if (kr > cap)
        return key.second + " has " + std::to_string(kr) + " kr over the cap in " +
               std::to_string(key.first);
    }
    for (const CaseRecord& c : store.cases().list_cases()) {
      auto [it, inserted] = first_seen.try_emplace(c.id, c.account_number, c.contact_email);
      if (!inserted &&
          (it->second.first != c.account_number || it->second.second != c.contact_email))
        return c.ref + ": account or contact changed from " + it->second.first + "/" +
               it->second.second + " to " + c.account_number + "/" + c.contact_email;
      const bool decided = c.state == CaseState::decided || c.state == CaseState::decision_sent ||
                           c.state == CaseState::scheduled || c.state == CaseState::paid;
      Kroner total = 0;
      for (const CaseLine& l : c.lines) {
        if (l.outcome != rules::Outcome::approved) continue;
        total += l.amount;
        if (l.cost && l.amount > *l.cost) return c.ref + ": an amount above the line's cost";
        if (decided && l.amount > 0 && rows_of[{c.id, l.employee_key}] != 1)
          return c.ref + ": an approved line of a decided case is not in the ledger once";
      }
      if (decided && total != c.total) return c.ref + ": total is not its approved lines";
    }
    return "";
  }

  fs::path dir_;
  config::Config cfg_;
  IntakeSettings settings_;
};

TEST_F(MoneyInvariants, HoldAfterEveryStepOfFiftySeededSequences) {
  const auto start = steady_clock::now();
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    const std::string broken = run(seed, 40);
    ASSERT_TRUE(broken.empty()) << broken;
  }
  EXPECT_LT(steady_clock::now() - start, minutes{4});
}

// More seeds by hand: TILSKUDD_MONEY_SEEDS=200 ctest -R money_invariants.
TEST_F(MoneyInvariants, HoldForSeedsFromTheTime) {
  const char* n = std::getenv("TILSKUDD_MONEY_SEEDS");
  if (!n) GTEST_SKIP() << "set TILSKUDD_MONEY_SEEDS=N to run N more seeds";
  const auto base = static_cast<std::uint32_t>(system_clock::now().time_since_epoch().count());
  for (int i = 0; i < std::atoi(n); ++i) {
    const std::string broken = run(base + static_cast<std::uint32_t>(i), 40);
    ASSERT_TRUE(broken.empty()) << broken;
  }
}

}  // namespace
}  // namespace tilskudd
