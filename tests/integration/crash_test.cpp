// Crash safety of the whole daemon on real Dovecot + OpenSMTPD: a backlog of applications,
// the daemon killed with SIGKILL at random moments (seeded, so a failure can be replayed with
// TILSKUDD_CRASH_SEED), restarted each time, then run to the end. Every application must have
// exactly one case and exactly one letter (decision or documentation request) in its
// applicant's mailbox, and the event log must be intact.
//
// Sizes: TILSKUDD_CRASH_APPLICATIONS (default 300) and TILSKUDD_CRASH_KILLS (default 20).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "parsers/mime.h"
#include "tests/support/mail_servers.h"
#include "tests/support/pdf_writer.h"
#include "tests/support/support.h"
#include "workflow/store.h"

#ifndef TILSKUDD_BINARY
#error "TILSKUDD_BINARY must be defined"
#endif

extern char** environ;

using namespace tilskudd;
using namespace tilskudd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// 300+ distinct plausible employee names: first × last.
std::vector<std::string> names(std::size_t n) {
  const char* first[] = {"Kari", "Ola",    "Per",   "Lise",  "Nina", "Tor",   "Anne",
                         "Hans", "Ingrid", "Jonas", "Marte", "Erik", "Sofie", "Lars",
                         "Emma", "Knut",   "Ida",   "Geir",  "Siri", "Arne"};
  const char* last[] = {"Hansen", "Olsen",  "Larsen", "Berg",   "Dahl",  "Lie",     "Haugen",
                        "Bakken", "Moen",   "Strand", "Lund",   "Vik",   "Solberg", "Eide",
                        "Aas",    "Nilsen", "Holm",   "Brekke", "Tangen"};
  std::vector<std::string> out;
  for (const char* l : last)
    for (const char* f : first) out.push_back(std::string(f) + " " + l);
  out.resize(std::min(n, out.size()));
  return out;
}

std::string application(int i, const std::string& employee, const std::string& from,
                        const std::string& to, bool with_letter) {
  const int y = current_year();
  std::ostringstream form;
  form << "Hei,\r\n\r\nSøknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
          "barnehageansatte\r\nSaksnummer: 20/30298\r\nBarnehageeier: Solsikken Barnehage AS\r\n"
          "Organisasjonsnummer: 987 654 325\r\nBarnehage: Solsikken barnehage\r\n"
          "Kontaktperson: Kari Nordmann\r\nE-post: "
       << from << "\r\nKontonummer: 1234 56 78903\r\nDeres referanse: C-" << i << "\r\n\r\n"
       << "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n"
       << employee << " | ABLU | OsloMet | 95000 | " << (with_letter ? "40000" : "ikke mottatt")
       << "\r\n";
  std::ostringstream m;
  m << "From: <" << from << ">\r\nTo: " << to
    << "\r\nSubject: Søknad tilretteleggingstilskudd sak 20/30298\r\n"
    << "Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <crash-" << i
    << "@solsikken.test>\r\nMIME-Version: 1.0\r\n";
  if (!with_letter) {
    m << "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      << form.str();
    return m.str();
  }
  std::ostringstream letter;
  letter << "Statsforvalteren i Oslo og Viken\n\nVår dato: 15.06." << y << "    Vår ref.: " << y
         << "/" << 1000 + i << "\n\nTildeling av tilretteleggingsmidler for "
         << "barnehagelærerutdanning " << y << "\n\nVedtak\nStatsforvalteren tildeler Solsikken "
         << "Barnehage AS kr 40 000 i\ntilretteleggingsmidler for " << employee
         << ", som tar ABLU ved OsloMet, for studieåret " << y << "/" << y + 1 << ".\n";
  m << "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; "
       "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    << form.str()
    << "\r\n--b1\r\nContent-Type: application/pdf; name=\"brev.pdf\"\r\n"
       "Content-Disposition: attachment; filename=\"brev.pdf\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n"
    << base64_lines(make_pdf({letter.str()})) << "--b1--\r\n";
  return m.str();
}

pid_t spawn_daemon(const std::string& config, const std::string& log, bool once) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // not the test's lock of /work/mail.lock
  std::vector<std::string> args = {TILSKUDD_BINARY, "run", "--config", config};
  if (once) args.push_back("--once");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, TILSKUDD_BINARY, &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int wait_exit(pid_t pid, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  while (::waitpid(pid, &st, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      return -1000;
    }
    std::this_thread::sleep_for(10ms);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

// Messages in a Maildir (new and cur).
std::size_t maildir_count(const fs::path& maildir) {
  std::size_t n = 0;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(maildir / sub, ec); !ec && it != fs::directory_iterator();
         ++it)
      ++n;
  }
  return n;
}

TEST(CrashTest, SigkillAtRandomMomentsLosesNothingAndSendsNothingTwice) {
  MailServers& servers = MailServers::get();
  if (!servers.skip_reason.empty()) GTEST_SKIP() << servers.skip_reason;
  const int count = env_int("TILSKUDD_CRASH_APPLICATIONS", 300);
  const int kills = env_int("TILSKUDD_CRASH_KILLS", 20);
  const unsigned seed = static_cast<unsigned>(env_int("TILSKUDD_CRASH_SEED", 20261124));
  std::mt19937 rng(seed);
  RecordProperty("seed", static_cast<int>(seed));

  const std::string tag = std::to_string(::getpid());
  const std::string post = "crash" + tag + "@asker.test";
  const std::string domain = "crash" + tag + ".test";
  const fs::path dir = fs::temp_directory_path() / ("tilskudd-crash-" + tag);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "pw") << "secret-crash" << tag << "\n";
  std::vector<std::string> employees = names(static_cast<std::size_t>(count));
  ASSERT_EQ(employees.size(), static_cast<std::size_t>(count)) << "not enough distinct names";
  {
    std::ofstream roster(dir / "roster.csv");
    roster << "employee,programme,org_number\n";
    for (const auto& e : employees) roster << e << ",ABLU,987654325\n";
  }
  {
    std::ofstream c(dir / "tilskudd.toml");
    c << "[mailbox]\nurl = \"" << servers.imaps_url() << "\"\nusername = \"" << post
      << "\"\npassword_file = \"pw\"\nca_file = \"" << servers.ca_file()
      << "\"\npoll_interval_seconds = 1\n\n[smtp]\nurl = \"" << servers.smtp_url()
      << "\"\nfrom = \"Asker kommune <" << post
      << ">\"\nallow_insecure = true\nmax_per_recipient_per_day = 1000\n\n[store]\npath = "
         "\"store.db\"\n\n"
         // Loopback mail has no Authentication-Results: the suites' explicit opt-out.
         "[sender]\nrequire_authentication = false\n\n[controls]\naudit_sample_percent = 0\n\n";
    for (int y = current_year() - 1; y <= current_year() + 1; ++y) {
      c << "[year." << y << "]\ndeadlines = [\"" << y << "-06-30\", \"" << y
        << "-12-31\"]\ncap_per_student_when_state_rejected = 75000\nprogrammes = [\"ABLU\"]\n"
        << "roster = \"roster.csv\"\n\n";
    }
  }
  const std::string config = (dir / "tilskudd.toml").string();
  const std::string log = (dir / "daemon.log").string();

  // The backlog: every other application without its letter (a documentation request).
  std::vector<std::string> applicants;
  for (int i = 0; i < count; ++i) {
    applicants.push_back("a" + std::to_string(i) + "@" + domain);
    smtp_deliver(applicants.back(), post,
                 application(i, employees[static_cast<std::size_t>(i)], applicants.back(), post,
                             i % 2 == 0));
  }
  ASSERT_TRUE(wait_for_messages(post, static_cast<std::uint32_t>(count), 120s));

  // Kill it again and again, each time at a random moment of its work.
  std::uniform_int_distribution<int> delay_ms(30, 900);
  int killed = 0;
  for (int k = 0; k < kills; ++k) {
    pid_t pid = spawn_daemon(config, log, false);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (::kill(pid, SIGKILL) == 0) ++killed;
    int st = 0;
    ::waitpid(pid, &st, 0);
  }
  // Then to the end: one run that finishes the work (repeated while the backlog lasts).
  for (int i = 0; i < 20; ++i) {
    pid_t pid = spawn_daemon(config, log, true);
    ASSERT_EQ(wait_exit(pid, 600s), 0) << "see " << log;
    Store s = Store::open((dir / "store.db").string());
    bool pending = false;
    for (const CaseRecord& c : s.cases().list_cases())
      for (const OutboxItem& o : s.outbox().outbox_for_case(c.id))
        pending |= o.status == OutboxStatus::pending || o.status == OutboxStatus::sending;
    if (s.cases().list_cases().size() >= static_cast<std::size_t>(count) && !pending) break;
  }

  // Let the last letters arrive.
  const fs::path mailroot = fs::path(servers.dir) / "mail" / domain;
  int lost = 0, duplicated = 0;
  for (int wait = 0; wait < 300; ++wait) {
    lost = 0;
    for (int i = 0; i < count; ++i)
      lost += maildir_count(mailroot / ("a" + std::to_string(i)) / "Maildir") == 0;
    if (lost == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  std::vector<int> lost_list, dup_list;
  lost = 0;
  for (int i = 0; i < count; ++i) {
    std::size_t n = maildir_count(mailroot / ("a" + std::to_string(i)) / "Maildir");
    if (n == 0) {
      ++lost;
      lost_list.push_back(i);
    }
    if (n > 1) {
      ++duplicated;
      dup_list.push_back(i);
    }
  }

  Store s = Store::open((dir / "store.db").string());
  auto cases = s.cases().list_cases();
  std::map<std::string, int> per_applicant;
  int uncertain = 0;
  for (const CaseRecord& c : cases) {
    ++per_applicant[c.contact_email];
    for (const OutboxItem& o : s.outbox().outbox_for_case(c.id))
      uncertain += o.status == OutboxStatus::uncertain;
  }
  int cases_twice = 0;
  for (const auto& [who, n] : per_applicant) cases_twice += n > 1;
  EventChainCheck chain = s.events().verify_events();

  std::ostringstream report;
  report << "seed " << seed << ": " << count << " applications, " << killed << " SIGKILLs; "
         << cases.size() << " cases; lost " << lost << ", duplicated " << duplicated
         << ", uncertain " << uncertain << ", applicants with two cases " << cases_twice;
  std::cout << report.str() << std::endl;
  RecordProperty("report", report.str());
  EXPECT_EQ(killed, kills);
  EXPECT_EQ(cases.size(), static_cast<std::size_t>(count)) << report.str();
  EXPECT_EQ(lost, 0) << report.str() << " (first lost: " << (lost_list.empty() ? -1 : lost_list[0])
                     << ")";
  EXPECT_EQ(duplicated, 0) << report.str();
  EXPECT_EQ(cases_twice, 0) << report.str();
  EXPECT_TRUE(chain.ok) << chain.problem;
  // Every message of post@ that is an application is marked.
  std::vector<StoredMessage> inbox_now = inbox(post);
  int unmarked = 0;
  for (const auto& m : inbox_now) unmarked += !has_flag(m, "$Tilskudd");
  EXPECT_EQ(unmarked, 0);
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
