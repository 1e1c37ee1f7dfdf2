#include "workflow/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "workflow/sha256.h"
#include "workflow/store_sqlite.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

Timestamp at(int y, unsigned m, unsigned d, int hour = 12) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour};
}

struct LineSpec {
  std::string employee;
  rules::Outcome outcome;
  Kroner amount;
  std::string reason_code;
};

Assessment assessment(const std::vector<LineSpec>& lines,
                      rules::CaseStatus status = rules::CaseStatus::decided,
                      int rules_year = 2026) {
  Assessment a;
  a.subject = "Søknad tilretteleggingstilskudd, sak 20/30298";
  a.message_id = "<app-1@barnehage.no>";
  a.contact_email = "styrer@barnehage.no";
  a.form.found = true;
  a.form.owner = "Solsikken barnehage AS";
  a.form.org_number = "974760673";
  a.form.account_number = "15031234567";
  a.form.reference = "SOL-7";
  for (const auto& l : lines) {
    FormLine f;
    f.employee = l.employee;
    f.programme = Programme::ABLU;
    f.cost = 80000;
    f.state_status = StateStatus::rejected;
    a.form.lines.push_back(f);
    rules::LineDecision d;
    d.employee = l.employee;
    d.outcome = l.outcome;
    d.amount = l.amount;
    d.reason_code = l.reason_code;
    d.reason = "Begrunnelse";
    a.decision.lines.push_back(d);
    if (l.outcome == rules::Outcome::approved) a.decision.total += l.amount;
  }
  a.decision.status = status;
  a.decision.round = rules::Round{Date{rules_year, 9, 1}, rules_year, 1};
  Letter letter;
  letter.filename = "avslag.pdf";
  letter.kind = LetterKind::rejection;
  a.letters.push_back(letter);
  return a;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_store_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "tilskudd.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::int64_t record(Store& s, std::uint32_t uid, const std::string& raw = "",
                      const std::string& message_id = "") {
    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 7;
    m.uid = uid;
    m.message_id = message_id.empty() ? "<m" + std::to_string(uid) + "@x.no>" : message_id;
    std::string bytes =
        raw.empty() ? "Subject: sak 20/30298\r\n\r\nbody " + std::to_string(uid) : raw;
    m.raw = bytes;
    m.received = "2026-03-01T10:00:00Z";
    return s.messages().record_message(m).id;
  }

  CaseRecord new_case(Store& s, std::uint32_t uid, const Assessment& a, Timestamp now) {
    return s.cases().create_case(a, record(s, uid), now);
  }

  // Runs SQL on a separate raw connection; returns SQLite's result code.
  int raw_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }

  // The first column of the first row of a query on a separate raw connection ("" when none).
  std::string raw_value(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  fs::path dir_;
  std::string path_;
};

// ---- SHA-256 (FIPS 180-4 vectors and padding boundaries) ----------------------------------

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                       "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  EXPECT_EQ(sha256_hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(63, 'a')),
            "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(sha256_hex(std::string(119, 'a')),
            "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  EXPECT_EQ(sha256_hex(std::string(120, 'a')),
            "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

TEST(IsoUtc, FormatsSecondsInUtc) {
  EXPECT_EQ(iso_utc(at(2026, 3, 1, 9)), "2026-03-01T09:00:00Z");
  EXPECT_EQ(iso_utc(sys_days{year{2020} / 12 / 31} + hours{23} + minutes{59} + seconds{58}),
            "2020-12-31T23:59:58Z");
}

// ---- opening and migrations ----------------------------------------------------------------

TEST_F(StoreTest, OpenCreatesLatestSchemaWithWalActuallyOn) {
  {
    Store s = Store::open(path_);
    EXPECT_EQ(s.schema_version(), Store::latest_version());
    EXPECT_EQ(s.journal_mode(), "wal");
  }
  // WAL is persistent in the file: a plain connection sees it too.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(StoreTest, ReopeningDoesNotReapplyMigrations) {
  { Store s = Store::open(path_); }
  Store s = Store::open(path_);
  EXPECT_EQ(s.schema_version(), Store::latest_version());
}

TEST_F(StoreTest, MigratesVersion1DatabaseKeepingItsCases) {
  ASSERT_GE(Store::latest_version(), 2);
  std::string v1(Store::migrations()[0]);
  ASSERT_EQ(raw_exec(v1 + "; PRAGMA user_version = 1;"), SQLITE_OK);
  ASSERT_EQ(raw_exec("INSERT INTO cases(ref, year, seq, state, created_at, updated_at) VALUES "
                     "('TT-2025-0007', 2025, 7, 'flagged', '2025-05-01T00:00:00Z', "
                     "'2025-05-01T00:00:00Z')"),
            SQLITE_OK);
  // The outbox does not exist yet in version 1.
  ASSERT_NE(raw_exec("SELECT * FROM outbox"), SQLITE_OK);

  Store s = Store::open(path_);
  EXPECT_EQ(s.schema_version(), Store::latest_version());
  auto c = s.cases().find_case_by_ref("TT-2025-0007");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->state, CaseState::flagged);
  OutboxItem item;
  item.case_id = c->id;
  item.kind = OutboxKind::documentation_request;
  item.message_id = "<doc-TT-2025-0007@asker.kommune.no>";
  item.recipient = "a@b.no";
  EXPECT_TRUE(s.outbox().enqueue_outbox(item, at(2026, 1, 1)).inserted);
  EXPECT_TRUE(s.ledger().prior_grants(2025).empty());
}

// The names in an enum column's CHECK list, from the table's SQL as SQLite keeps it (after
// every migration, ALTER TABLE ADD COLUMN included).
std::vector<std::string> check_list(const std::string& path, const std::string& table,
                                    const std::string& column) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", -1,
                         &st, nullptr),
      SQLITE_OK);
  sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  std::string sql;
  if (sqlite3_step(st) == SQLITE_ROW)
    sql = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  const std::string marker = "CHECK (" + column + " IN (";
  auto at = sql.find(marker);
  if (at == std::string::npos) return {};
  EXPECT_EQ(sql.find(marker, at + 1), std::string::npos) << table << "." << column;
  auto end = sql.find(')', at + marker.size());
  std::vector<std::string> names;
  std::string list = sql.substr(at + marker.size(), end - at - marker.size());
  for (std::size_t q = list.find('\''); q != std::string::npos; q = list.find('\'', q + 1)) {
    auto close = list.find('\'', q + 1);
    names.push_back(list.substr(q + 1, close - q - 1));
    q = close;
  }
  return names;
}

template <NamedEnum E>
std::vector<std::string> table_names() {
  std::vector<std::string> out;
  for (const auto& n : enum_names<E>()) out.emplace_back(n.name);
  return out;
}

TEST_F(StoreTest, EveryEnumColumnChecksTheNamesOfItsEnum) {
  { Store s = Store::open(path_); }
  struct Column {
    std::string table, column;
    std::vector<std::string> names;
  };
  const std::vector<Column> columns = {
      {"cases", "state", table_names<CaseState>()},
      {"messages", "status", table_names<MessageStatus>()},
      {"messages", "mailbox_state", table_names<MailboxState>()},
      {"case_lines", "programme", table_names<Programme>()},
      {"case_lines", "state_status", table_names<StateStatus>()},
      {"case_lines", "outcome", table_names<rules::Outcome>()},
      {"letters", "kind", table_names<LetterKind>()},
      {"events", "from_state", table_names<CaseState>()},
      {"events", "to_state", table_names<CaseState>()},
      {"outbox", "kind", table_names<OutboxKind>()},
      {"outbox", "status", table_names<OutboxStatus>()},
  };
  for (const Column& c : columns) {
    ASSERT_FALSE(c.names.empty());
    EXPECT_EQ(check_list(path_, c.table, c.column), c.names) << c.table << "." << c.column;
  }
}

TEST(EnumNames, EveryValueHasOneNameThatParsesBack) {
  auto round_trips = []<NamedEnum E>(E) {
    std::set<std::string_view> seen;
    for (const auto& n : enum_names<E>()) {
      EXPECT_FALSE(n.name.empty());
      EXPECT_TRUE(seen.insert(n.name).second) << n.name;
      EXPECT_EQ(enum_name(n.value), n.name);
      EXPECT_EQ(parse_enum<E>(n.name), n.value) << n.name;
    }
    EXPECT_EQ(parse_enum<E>("bogus"), std::nullopt);
    EXPECT_EQ(parse_enum<E>(""), std::nullopt);
  };
  round_trips(CaseState{});
  round_trips(MessageStatus{});
  round_trips(MailboxState{});
  round_trips(Programme{});
  round_trips(StateStatus{});
  round_trips(rules::Outcome{});
  round_trips(rules::CaseStatus{});
  round_trips(LetterKind{});
  round_trips(OutboxKind{});
  round_trips(OutboxStatus{});
  round_trips(SendOutcome{});
  EXPECT_EQ(enum_names<MessageStatus>().size(), 6u);
  EXPECT_EQ(enum_name(MessageStatus::new_), "new");
  EXPECT_EQ(parse_enum<Programme>("ablu"), std::nullopt);  // exact names only
}

// Version 6 (before the enum columns got their CHECK lists) with a row in every rebuilt table:
// the migration keeps them all, with their ids, and the constraints, indexes and triggers
// hold afterwards.
TEST_F(StoreTest, MigratesVersion6DatabaseKeepingItsRows) {
  ASSERT_GE(Store::latest_version(), 7);
  std::string v6;
  for (int i = 0; i < 6; ++i) v6 += std::string(Store::migrations()[static_cast<std::size_t>(i)]);
  ASSERT_EQ(raw_exec(v6 + "; PRAGMA user_version = 6;"), SQLITE_OK);
  ASSERT_EQ(
      raw_exec(
          "INSERT INTO blobs VALUES ('aa', X'6869'), ('bb', X'');"
          "INSERT INTO cases(id, ref, year, seq, state, org_number, created_at, updated_at) VALUES "
          "(3, 'TT-2025-0003', 2025, 3, 'flagged', '974760673', '2025-05-01T00:00:00Z', "
          "'2025-05-01T00:00:00Z');"
          "INSERT INTO messages(id, mailbox, uidvalidity, uid, message_id, sha256, case_id, "
          "status, "
          "attempts, last_error, mailbox_state) VALUES "
          "(5, 'INBOX', 7, 11, 'a@x', 'aa', 3, 'processed', 0, '', 'to_mark'),"
          "(6, 'INBOX', 7, 12, 'b@x', 'bb', NULL, 'quarantined', 2, 'too big', 'to_quarantine');"
          "INSERT INTO case_lines VALUES (3, 0, 'Kari Nordmann', 'kari nordmann', 'BLU_DELTID', "
          "80000, 'granted', 40000, 'flagged', 0, 'Begrunnelse', 'x');"
          "INSERT INTO letters(id, case_id, message_row, filename, kind, sha256) VALUES "
          "(9, 3, 5, 'brev.pdf', 'grant', 'aa');"
          "INSERT INTO events(id, case_id, at, actor, from_state, to_state) VALUES "
          "(1, 3, '2025-05-01T00:00:00Z', 'daemon', NULL, 'received'),"
          "(2, 3, '2025-05-01T00:00:00Z', 'daemon', 'received', 'flagged');"),
      SQLITE_OK);

  Store s = Store::open(path_);
  EXPECT_EQ(s.schema_version(), Store::latest_version());
  auto m = s.messages().message(6);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->status, MessageStatus::quarantined);
  EXPECT_EQ(m->mailbox_state, MailboxState::to_quarantine);
  EXPECT_EQ(m->attempts, 2);
  EXPECT_EQ(m->last_error, "too big");
  EXPECT_EQ(s.messages().message(5)->case_id, 3);
  EXPECT_EQ(s.messages().message_raw(5), "hi");
  EXPECT_EQ(s.messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark).size(), 1u);
  auto c = s.cases().find_case(3);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->lines.size(), 1u);
  EXPECT_EQ(c->lines[0].programme, Programme::BLU_DELTID);
  EXPECT_EQ(c->lines[0].state_status, StateStatus::granted);
  EXPECT_EQ(c->lines[0].state_grant, 40000);
  EXPECT_EQ(c->lines[0].outcome, rules::Outcome::flagged);
  EXPECT_EQ(s.cases().cases_with_employees("974760673", {"kari nordmann"}).size(), 1u);
  auto letters = s.cases().case_letters(3);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].kind, LetterKind::grant);
  EXPECT_EQ(letters[0].message_row, 5);
  ASSERT_EQ(s.events().case_events(3).size(), 2u);
  EXPECT_EQ(s.events().case_events(3)[1].to, CaseState::flagged);

  // The event log: still append-only, and the chain starts after the old events.
  EXPECT_NE(raw_exec("DELETE FROM events"), SQLITE_OK);
  EXPECT_NE(raw_exec("UPDATE events SET actor = 'forger'"), SQLITE_OK);
  s.events().add_event(3, "daemon", "after the migration", at(2026, 1, 1));
  auto chain = s.events().verify_events();
  EXPECT_TRUE(chain.ok) << chain.problem;
  EXPECT_EQ(chain.before_chain, 2);
  EXPECT_EQ(chain.checked, 1);
  // The new constraints hold, and so do the foreign keys.
  EXPECT_NE(raw_exec("UPDATE messages SET status = 'bogus' WHERE id = 5"), SQLITE_OK);
  EXPECT_NE(raw_exec("UPDATE case_lines SET outcome = 'maybe'"), SQLITE_OK);
  EXPECT_NE(raw_exec("UPDATE letters SET kind = 'love'"), SQLITE_OK);
  EXPECT_THROW(s.messages().attach_message(6, 4242), StoreError);
  for (const char* index :
       {"messages_message_id", "messages_sha256", "messages_case", "messages_status",
        "messages_mailbox_state", "case_lines_employee", "letters_case", "events_case"})
    EXPECT_EQ(raw_value(std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'index' "
                                    "AND name = '") +
                        index + "'"),
              "1")
        << index;
}

// A version 6 row that no enum names: the migration fails as a whole and leaves version 6.
TEST_F(StoreTest, MigrationToVersion7RefusesAnUnknownNameAndChangesNothing) {
  std::string v6;
  for (int i = 0; i < 6; ++i) v6 += std::string(Store::migrations()[static_cast<std::size_t>(i)]);
  ASSERT_EQ(raw_exec(v6 + "; PRAGMA user_version = 6;"), SQLITE_OK);
  ASSERT_EQ(raw_exec("INSERT INTO blobs VALUES ('aa', X'');"
                     "INSERT INTO messages(mailbox, uidvalidity, uid, sha256, status) VALUES "
                     "('INBOX', 7, 1, 'aa', 'half-done')"),
            SQLITE_OK);
  EXPECT_THROW(Store::open(path_), StoreError);
  EXPECT_EQ(raw_value("PRAGMA user_version"), "6");
  EXPECT_EQ(raw_value("SELECT status FROM messages"), "half-done");
}

TEST_F(StoreTest, RefusesSchemaNewerThanTheProgram) {
  ASSERT_EQ(raw_exec("PRAGMA user_version = 99"), SQLITE_OK);
  EXPECT_THROW(Store::open(path_), StoreError);
}

TEST_F(StoreTest, OpenFailsCleanlyOnUnwritablePath) {
  EXPECT_THROW(Store::open((dir_ / "missing" / "dir" / "x.db").string()), StoreError);
}

TEST_F(StoreTest, ForeignKeysAreEnforced) {
  Store s = Store::open(path_);
  auto row = record(s, 1);
  EXPECT_THROW(s.messages().attach_message(row, 4242), StoreError);
  EXPECT_FALSE(s.messages().message(row)->case_id.has_value());
}

// ---- checkpoints and messages --------------------------------------------------------------

TEST_F(StoreTest, CheckpointIsSetAndUpdated) {
  Store s = Store::open(path_);
  EXPECT_FALSE(s.messages().checkpoint("INBOX").has_value());
  s.messages().set_checkpoint("INBOX", 7, 100, at(2026, 3, 1));
  s.messages().set_checkpoint("INBOX", 7, 120, at(2026, 3, 2));
  auto c = s.messages().checkpoint("INBOX");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->uidvalidity, 7u);
  EXPECT_EQ(c->highest_uid, 120u);
  EXPECT_EQ(c->updated_at, "2026-03-02T12:00:00Z");
  EXPECT_FALSE(s.messages().checkpoint("Other").has_value());
}

TEST_F(StoreTest, RecordMessageIsIdempotentPerMailboxUidvalidityUid) {
  Store s = Store::open(path_);
  IncomingMessage m{"INBOX", 7, 42, "<a@b.no>", "raw bytes", "2026-03-01T10:00:00Z"};
  auto first = s.messages().record_message(m);
  auto again = s.messages().record_message(m);
  EXPECT_TRUE(first.inserted);
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(first.id, again.id);
  EXPECT_TRUE(again.same_message_id.empty());
  EXPECT_EQ(first.sha256, sha256_hex("raw bytes"));
  EXPECT_EQ(s.messages().messages_with_status(MessageStatus::new_).size(), 1u);
}

TEST_F(StoreTest, RecordMessageReportsDuplicatesByMessageIdAndContent) {
  Store s = Store::open(path_);
  auto a = s.messages().record_message({"INBOX", 7, 1, "<same@b.no>", "content A", ""});
  // The same mail after the mailbox was rebuilt (new UIDVALIDITY): same bytes, same id.
  auto b = s.messages().record_message({"INBOX", 8, 1, "same@b.no", "content A", ""});
  // A re-send with other bytes but the same Message-ID.
  auto c = s.messages().record_message({"INBOX", 8, 2, " <same@b.no> ", "content B", ""});
  EXPECT_TRUE(b.inserted);
  EXPECT_EQ(b.same_message_id, std::vector<std::int64_t>{a.id});
  EXPECT_EQ(b.same_content, std::vector<std::int64_t>{a.id});
  EXPECT_EQ(c.same_message_id, (std::vector<std::int64_t>{a.id, b.id}));
  EXPECT_TRUE(c.same_content.empty());
  // Messages without a Message-ID are not duplicates of each other by id.
  auto d = s.messages().record_message({"INBOX", 8, 3, "", "content D", ""});
  auto e = s.messages().record_message({"INBOX", 8, 4, "", "content E", ""});
  EXPECT_TRUE(d.same_message_id.empty());
  EXPECT_TRUE(e.same_message_id.empty());
}

TEST_F(StoreTest, RawBytesRoundTripIncludingNulAndAreStoredOnce) {
  Store s = Store::open(path_);
  std::string raw("From: x\r\n\r\n\0\xff\xfe binary", 20);
  auto a = s.messages().record_message({"INBOX", 7, 1, "", raw, ""});
  auto b = s.messages().record_message({"Archive", 7, 1, "", raw, ""});
  EXPECT_EQ(s.messages().message_raw(a.id), raw);
  EXPECT_EQ(s.messages().message_raw(b.id), raw);
  EXPECT_EQ(s.messages().blob(a.sha256), raw);
  EXPECT_FALSE(s.messages().message_raw(999).has_value());
}

TEST_F(StoreTest, ForgottenBytesKeepTheHashButNotTheMail) {
  Store s = Store::open(path_);
  auto a = s.messages().record_message({"INBOX", 7, 1, "", "a citizen's private mail", ""});
  s.messages().mark_message(a.id, MessageStatus::ignored, "no_case_number");
  s.messages().forget_message_bytes(a.id);
  EXPECT_EQ(s.messages().message_raw(a.id), std::string());
  // The same bytes delivered again are still recognised by their hash.
  auto b = s.messages().record_message({"INBOX", 7, 2, "", "a citizen's private mail", ""});
  EXPECT_EQ(b.same_content, std::vector<std::int64_t>{a.id});
}

TEST_F(StoreTest, BytesSharedWithACaseAreNotForgotten) {
  Store s = Store::open(path_);
  auto a = s.messages().record_message({"INBOX", 7, 1, "", "shared bytes", ""});
  auto b = s.messages().record_message({"INBOX", 7, 2, "", "shared bytes", ""});
  Assessment as;
  as.received = Date{2026, 3, 1};
  CaseRecord c = s.cases().create_case(as, a.id, at(2026, 3, 1));
  ASSERT_EQ(s.messages().message(a.id)->case_id, c.id);
  s.messages().forget_message_bytes(b.id);
  EXPECT_EQ(s.messages().message_raw(a.id), "shared bytes");
}

TEST_F(StoreTest, MailboxStateTracksWhatTheMailboxIsOwed) {
  Store s = Store::open(path_);
  auto a = s.messages().record_message({"INBOX", 7, 1, "<a@x>", "A", ""});
  auto b = s.messages().record_message({"INBOX", 7, 2, "<b@x>", "B", ""});
  EXPECT_EQ(s.messages().message(a.id)->mailbox_state, MailboxState::none);
  s.messages().set_mailbox_state(a.id, MailboxState::to_mark);
  s.messages().set_mailbox_state(b.id, MailboxState::to_quarantine);
  ASSERT_EQ(s.messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark).size(), 1u);
  EXPECT_EQ(s.messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark)[0].uid, 1u);
  EXPECT_TRUE(s.messages().messages_with_mailbox_state("Other", MailboxState::to_mark).empty());
  s.messages().set_mailbox_state(a.id, MailboxState::marked);
  EXPECT_TRUE(s.messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark).empty());
  // The type allows no other state; the schema refuses one written behind the store's back.
  EXPECT_NE(
      raw_exec("UPDATE messages SET mailbox_state = 'bogus' WHERE id = " + std::to_string(a.id)),
      SQLITE_OK);
  EXPECT_NE(raw_exec("UPDATE messages SET status = 'bogus' WHERE id = " + std::to_string(a.id)),
            SQLITE_OK);
  EXPECT_EQ(s.messages().known_message_ids("INBOX"), (std::vector<std::string>{"a@x", "b@x"}));
  EXPECT_EQ(s.messages().known_message_ids("INBOX", /*only_unmoved=*/true),
            std::vector<std::string>{"b@x"});
}

TEST_F(StoreTest, HostileTextIsStoredVerbatim) {
  Store s = Store::open(path_);
  std::string evil = "<'); DROP TABLE cases; --@x>";
  auto r = s.messages().record_message({"INBOX'--", 7, 1, evil, "x", "'"});
  auto m = s.messages().message(r.id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->mailbox, "INBOX'--");
  EXPECT_EQ(m->message_id, "'); DROP TABLE cases; --@x");
  EXPECT_TRUE(s.cases().list_cases().empty());  // the table is still there
}

TEST_F(StoreTest, MarkMessageCountsFailedAttempts) {
  Store s = Store::open(path_);
  auto row = record(s, 1);
  s.messages().mark_message(row, MessageStatus::failed, "pdftotext timed out");
  s.messages().mark_message(row, MessageStatus::failed, "pdftotext timed out again");
  s.messages().mark_message(row, MessageStatus::processed);
  auto m = s.messages().message(row);
  EXPECT_EQ(m->status, MessageStatus::processed);
  EXPECT_EQ(m->attempts, 2);
  EXPECT_THROW(s.messages().mark_message(999, MessageStatus::processed), StoreError);
}

// ---- cases ---------------------------------------------------------------------------------

TEST_F(StoreTest, CreateCaseStoresFormLinesLettersEventAndLinksMessage) {
  Store s = Store::open(path_);
  auto a = assessment({{"Kari Nordmann", rules::Outcome::approved, 75000, "state_rejected_cap"},
                       {"Ola Hansen", rules::Outcome::pending, 0, "documentation_missing"}},
                      rules::CaseStatus::needs_documentation);
  auto row = record(s, 1, "", "<app-1@barnehage.no>");
  auto c = s.cases().create_case(a, row, at(2026, 3, 1));
  EXPECT_EQ(c.ref, "TT-2026-0001");
  EXPECT_EQ(c.state, CaseState::received);
  EXPECT_EQ(c.owner, "Solsikken barnehage AS");
  EXPECT_EQ(c.org_number, "974760673");
  EXPECT_EQ(c.contact_email, "styrer@barnehage.no");
  EXPECT_EQ(c.applicant_reference, "SOL-7");
  EXPECT_EQ(c.round, "2026-09-01");
  EXPECT_EQ(c.round_year, 2026);
  EXPECT_EQ(c.total, 75000);
  EXPECT_EQ(c.created_at, "2026-03-01T12:00:00Z");
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0].employee_key, "kari nordmann");
  EXPECT_EQ(c.lines[0].programme, Programme::ABLU);
  EXPECT_EQ(c.lines[0].cost, 80000);
  EXPECT_EQ(c.lines[0].state_status, StateStatus::rejected);
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(c.lines[1].outcome, rules::Outcome::pending);
  EXPECT_EQ(c.lines[1].reason_code, "documentation_missing");
  auto letters = s.cases().case_letters(c.id);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].kind, LetterKind::rejection);
  EXPECT_EQ(letters[0].message_row, row);
  auto events = s.events().case_events(c.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].from.has_value());
  EXPECT_EQ(events[0].to, CaseState::received);
  EXPECT_EQ(nlohmann::json::parse(events[0].detail)["assessed_status"], "needs_documentation");
  EXPECT_EQ(s.messages().message(row)->case_id, c.id);
  // A reply quoting the application's Message-ID finds the case.
  auto by_reply = s.cases().find_case_by_message_id("<app-1@barnehage.no>");
  ASSERT_TRUE(by_reply.has_value());
  EXPECT_EQ(by_reply->ref, "TT-2026-0001");
  EXPECT_FALSE(s.cases().find_case_by_message_id("<other@x.no>").has_value());
  EXPECT_FALSE(s.cases().find_case_by_message_id("").has_value());
}

TEST_F(StoreTest, RefsAreUniqueAndSequentialPerYear) {
  Store s = Store::open(path_);
  auto a = assessment({{"Kari", rules::Outcome::approved, 1, "x"}});
  EXPECT_EQ(new_case(s, 1, a, at(2026, 1, 5)).ref, "TT-2026-0001");
  EXPECT_EQ(new_case(s, 2, a, at(2026, 6, 5)).ref, "TT-2026-0002");
  EXPECT_EQ(new_case(s, 3, a, at(2027, 1, 1, 0)).ref, "TT-2027-0001");
  EXPECT_EQ(new_case(s, 4, a, at(2026, 12, 31, 23)).ref, "TT-2026-0003");
  {
    // Another connection (an admin command) continues the same sequence.
    Store other = Store::open(path_);
    EXPECT_EQ(new_case(other, 5, a, at(2027, 2, 1)).ref, "TT-2027-0002");
  }
  auto all = s.cases().list_cases();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[4].ref, "TT-2027-0002");
  EXPECT_EQ(s.cases().find_case_by_ref("TT-2026-0002")->id, all[1].id);
  EXPECT_FALSE(s.cases().find_case_by_ref("TT-2026-0009").has_value());
  // The database itself refuses a duplicate ref.
  EXPECT_NE(raw_exec("INSERT INTO cases(ref, year, seq, state, created_at, updated_at) VALUES "
                     "('TT-2026-0001', 2026, 99, 'received', '', '')"),
            SQLITE_OK);
}

TEST_F(StoreTest, TransitionsFollowTheLifeOfACaseWithOneEventEach) {
  Store s = Store::open(path_);
  auto c =
      new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
  s.cases().transition(c.id, CaseState::decided, "daemon", "assessed", at(2026, 3, 1));
  s.cases().transition(c.id, CaseState::decision_sent, "daemon", "smtp 250", at(2026, 3, 2));
  s.cases().transition(c.id, CaseState::scheduled, "admin:kari", "round 2026-09-01",
                       at(2026, 9, 2));
  auto done = s.cases().transition(c.id, CaseState::paid, "admin:kari", "paid", at(2026, 9, 20),
                                   {{"voucher", "B-17"}});
  EXPECT_EQ(done.state, CaseState::paid);
  EXPECT_EQ(done.updated_at, "2026-09-20T12:00:00Z");
  auto events = s.events().case_events(c.id);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1].from, CaseState::received);
  EXPECT_EQ(events[1].to, CaseState::decided);
  EXPECT_EQ(events[3].actor, "admin:kari");
  EXPECT_EQ(events[4].to, CaseState::paid);
  EXPECT_EQ(nlohmann::json::parse(events[4].detail)["voucher"], "B-17");
  EXPECT_EQ(s.cases().list_cases(CaseState::paid).size(), 1u);
  EXPECT_TRUE(s.cases().list_cases(CaseState::flagged).empty());
}

TEST_F(StoreTest, IllegalTransitionIsRefusedAndWritesNothing) {
  Store s = Store::open(path_);
  auto c =
      new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
  EXPECT_THROW(
      s.cases().transition(c.id, CaseState::decision_sent, "daemon", "skip", at(2026, 3, 2)),
      IllegalTransition);
  EXPECT_THROW(s.cases().transition(c.id, CaseState::paid, "daemon", "skip", at(2026, 3, 2)),
               IllegalTransition);
  auto after = s.cases().find_case(c.id);
  EXPECT_EQ(after->state, CaseState::received);
  EXPECT_EQ(after->updated_at, c.updated_at);
  EXPECT_EQ(s.events().case_events(c.id).size(), 1u);
  EXPECT_TRUE(s.ledger().prior_grants(2026).empty());
  EXPECT_THROW(s.cases().transition(999, CaseState::decided, "daemon", "", at(2026, 3, 2)),
               StoreError);
}

TEST_F(StoreTest, EventsAreAppendOnly) {
  Store s = Store::open(path_);
  auto c =
      new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
  EXPECT_NE(raw_exec("UPDATE events SET actor = 'forger'"), SQLITE_OK);
  EXPECT_NE(raw_exec("DELETE FROM events"), SQLITE_OK);
  auto events = s.events().case_events(c.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "daemon");
  // Appending still works (though a row written behind the store's back breaks the chain).
  EXPECT_EQ(raw_exec("INSERT INTO events(case_id, at, actor, to_state) VALUES (" +
                     std::to_string(c.id) + ", 'now', 'admin', 'received')"),
            SQLITE_OK);
  EXPECT_FALSE(s.events().verify_events().ok);
}

TEST_F(StoreTest, EventLogIsAHashChainThatShowsTampering) {
  {
    Store s = Store::open(path_);
    auto c =
        new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
    s.cases().transition(c.id, CaseState::decided, "daemon", "every line decided", at(2026, 3, 1));
    s.events().add_event(c.id, "admin:kari", "note", at(2026, 3, 2), {{"text", "checked"}});
    s.cases().transition(c.id, CaseState::decision_sent, "daemon", "sent", at(2026, 3, 2));
    EventChainCheck ok = s.events().verify_events();
    EXPECT_TRUE(ok.ok) << ok.problem;
    EXPECT_EQ(ok.checked, 4);
    EXPECT_EQ(ok.head_id, 4);
    EXPECT_EQ(ok.head_hash.size(), 64u);
  }
  // Someone with write access drops the guard and edits history.
  ASSERT_EQ(raw_exec("DROP TRIGGER events_no_update; UPDATE events SET reason = 'approved by "
                     "the boss' WHERE id = 2"),
            SQLITE_OK);
  {
    Store s = Store::open(path_);
    EventChainCheck bad = s.events().verify_events();
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.first_bad_id, 2);
  }
  ASSERT_EQ(raw_exec("UPDATE events SET reason = 'every line decided' WHERE id = 2"), SQLITE_OK);
  {
    Store s = Store::open(path_);
    EXPECT_TRUE(s.events().verify_events().ok) << "restoring the text restores the chain";
  }
  ASSERT_EQ(raw_exec("DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = 3"), SQLITE_OK);
  {
    Store s = Store::open(path_);
    EventChainCheck bad = s.events().verify_events();
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.first_bad_id, 4);
    EXPECT_NE(bad.problem.find("missing"), std::string::npos) << bad.problem;
  }
}

TEST_F(StoreTest, RetentionDeletesOldRawMessagesOfFinishedCasesOnly) {
  Store s = Store::open(path_);
  auto old_done =
      new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 1, 1));
  s.cases().transition(old_done.id, CaseState::decided, "daemon", "x", at(2026, 1, 1));
  s.cases().transition(old_done.id, CaseState::decision_sent, "daemon", "x", at(2026, 1, 2));
  auto old_open =
      new_case(s, 2, assessment({{"Ola", rules::Outcome::pending, 0, "x"}}), at(2026, 1, 1));
  s.cases().transition(old_open.id, CaseState::needs_documentation, "daemon", "x", at(2026, 1, 1));
  auto recent_done =
      new_case(s, 3, assessment({{"Per", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
  s.cases().transition(recent_done.id, CaseState::decided, "daemon", "x", at(2026, 3, 1));
  s.cases().transition(recent_done.id, CaseState::decision_sent, "daemon", "x", at(2026, 3, 1));

  EXPECT_EQ(s.cases().forget_old_bytes(at(2026, 2, 1), "retention", at(2026, 3, 2)), 1);
  auto bytes = [&](const CaseRecord& c) {
    return *s.messages().message_raw(s.messages().case_messages(c.id)[0].id);
  };
  EXPECT_EQ(bytes(old_done), "");
  EXPECT_NE(bytes(old_open), "") << "a case still waiting keeps its mail";
  EXPECT_NE(bytes(recent_done), "");
  EXPECT_EQ(s.events().case_events(old_done.id).back().reason, "retention");
  EXPECT_EQ(s.messages().case_messages(old_done.id).size(), 1u) << "the record stays";
  // Nothing left to delete: a second run touches nothing.
  EXPECT_EQ(s.cases().forget_old_bytes(at(2026, 2, 1), "retention", at(2026, 3, 3)), 0);
  EXPECT_TRUE(s.events().verify_events().ok);
}

TEST_F(StoreTest, ReminderDueIsClearedWhenLeavingNeedsDocumentation) {
  Store s = Store::open(path_);
  auto c = new_case(s, 1, assessment({{"Kari", rules::Outcome::pending, 0, "x"}}), at(2026, 3, 1));
  s.cases().transition(c.id, CaseState::needs_documentation, "daemon", "assessed", at(2026, 3, 1));
  s.cases().set_reminder_due(c.id, at(2026, 3, 15), at(2026, 3, 1));
  auto reminded = s.cases().transition(c.id, CaseState::needs_documentation, "daemon",
                                       "reminder sent", at(2026, 3, 15));
  EXPECT_EQ(reminded.reminder_due, "2026-03-15T12:00:00Z");
  auto flagged =
      s.cases().transition(c.id, CaseState::flagged, "daemon", "no answer", at(2026, 4, 1));
  EXPECT_EQ(flagged.reminder_due, "");
}

TEST_F(StoreTest, UpdateDecisionReplacesLinesUntilDecided) {
  Store s = Store::open(path_);
  auto first = assessment({{"Kari", rules::Outcome::pending, 0, "documentation_missing"}},
                          rules::CaseStatus::needs_documentation);
  auto c = new_case(s, 1, first, at(2026, 3, 1));
  s.cases().transition(c.id, CaseState::needs_documentation, "daemon", "assessed", at(2026, 3, 1));
  auto merged = assessment({{"Kari", rules::Outcome::approved, 60000, "state_rejected_cap"}});
  s.cases().update_decision(c.id, merged.form, merged.decision, merged.flags, "daemon",
                            at(2026, 3, 10));
  auto after = s.cases().find_case(c.id);
  ASSERT_EQ(after->lines.size(), 1u);
  EXPECT_EQ(after->lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(after->total, 60000);
  auto events = s.events().case_events(c.id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].from, CaseState::needs_documentation);
  EXPECT_EQ(events[2].to, CaseState::needs_documentation);
  s.cases().transition(c.id, CaseState::decided, "daemon", "reply merged", at(2026, 3, 10));
  EXPECT_THROW(s.cases().update_decision(c.id, first.form, first.decision, first.flags, "daemon",
                                         at(2026, 3, 11)),
               StoreError);
  EXPECT_EQ(s.cases().find_case(c.id)->total, 60000);
}

// ---- ledger --------------------------------------------------------------------------------

TEST_F(StoreTest, PriorGrantsSumPerStudentPerYearUnderTheCap) {
  Store s = Store::open(path_);
  auto a = new_case(
      s, 1,
      assessment({{"Kari Nordmann", rules::Outcome::approved, 50000, "state_rejected_cap"},
                  {"Ola Hansen", rules::Outcome::approved, 30000, "state_granted_remainder"},
                  {"Per Berg", rules::Outcome::rejected, 0, "programme_not_eligible"}}),
      at(2026, 3, 1));
  auto b = new_case(
      s, 2, assessment({{"KARI  nordmann", rules::Outcome::approved, 20000, "state_rejected_cap"}}),
      at(2026, 10, 1));
  auto other_year = new_case(
      s, 3,
      assessment({{"Kari Nordmann", rules::Outcome::approved, 75000, "state_rejected_cap"}},
                 rules::CaseStatus::decided, 2027),
      at(2026, 12, 20));
  auto undecided = new_case(
      s, 4, assessment({{"Kari Nordmann", rules::Outcome::approved, 5000, "state_rejected_cap"}}),
      at(2026, 11, 1));
  for (auto id : {a.id, b.id, other_year.id})
    s.cases().transition(id, CaseState::decided, "daemon", "assessed", at(2026, 12, 21));
  s.cases().transition(undecided.id, CaseState::flagged, "daemon", "assessed", at(2026, 12, 21));

  auto prior = s.ledger().prior_grants(2026);
  EXPECT_EQ(prior.size(), 1u);
  EXPECT_EQ(prior["kari nordmann"], 70000);  // not the flagged case, not 2027's round
  EXPECT_EQ(prior.count("ola hansen"), 0u);  // state granted: not under the cap
  EXPECT_EQ(s.ledger().prior_grants(2027)["kari nordmann"], 75000);
  EXPECT_TRUE(s.ledger().prior_grants(2025).empty());
  s.ledger().add_ledger(2026, "ola hansen", a.id, 1000, "state_rejected_cap");
  EXPECT_EQ(s.ledger().prior_grants(2026)["ola hansen"], 1000);
}

// ---- outbox --------------------------------------------------------------------------------

OutboxItem outbox(std::int64_t case_id, OutboxKind kind, const std::string& message_id) {
  OutboxItem o;
  o.case_id = case_id;
  o.kind = kind;
  o.message_id = message_id;
  o.recipient = "styrer@barnehage.no";
  o.subject = "Vedtak";
  o.body = std::string("Vedtak\0binary", 13);
  return o;
}

TEST_F(StoreTest, TwoDecisionsForOneCaseAreRefused) {
  Store s = Store::open(path_);
  auto c =
      new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
  auto first =
      s.outbox().enqueue_outbox(outbox(c.id, OutboxKind::decision, "<d1@asker>"), at(2026, 3, 1));
  EXPECT_TRUE(first.inserted);
  // The same message id again is an idempotent retry.
  auto retry =
      s.outbox().enqueue_outbox(outbox(c.id, OutboxKind::decision, "d1@asker"), at(2026, 3, 1));
  EXPECT_FALSE(retry.inserted);
  EXPECT_EQ(retry.id, first.id);
  // Another decision for the same case, whatever its message id, is refused.
  EXPECT_THROW(
      s.outbox().enqueue_outbox(outbox(c.id, OutboxKind::decision, "<d2@asker>"), at(2026, 3, 1)),
      StoreError);
  // The same message id for another kind is refused too.
  EXPECT_THROW(
      s.outbox().enqueue_outbox(outbox(c.id, OutboxKind::reminder, "<d1@asker>"), at(2026, 3, 1)),
      StoreError);
  EXPECT_THROW(s.outbox().enqueue_outbox(outbox(c.id, OutboxKind::reminder, "<>"), at(2026, 3, 1)),
               StoreError);
  // Reminders and requests may be several.
  EXPECT_TRUE(s.outbox()
                  .enqueue_outbox(outbox(c.id, OutboxKind::reminder, "<r1@asker>"), at(2026, 3, 1))
                  .inserted);
  EXPECT_TRUE(s.outbox()
                  .enqueue_outbox(outbox(c.id, OutboxKind::reminder, "<r2@asker>"), at(2026, 3, 1))
                  .inserted);
  auto items = s.outbox().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].body, std::string("Vedtak\0binary", 13));
  // The database itself refuses it too.
  EXPECT_NE(raw_exec("INSERT INTO outbox(case_id, kind, message_id, recipient, subject, body, "
                     "next_attempt_at, created_at) VALUES (" +
                     std::to_string(c.id) + ", 'decision', 'raw@x', 'a', 's', 'b', '', '')"),
            SQLITE_OK);
}

TEST_F(StoreTest, OutboxIsDueInOrderAndRecoversFromACrashWhileSending) {
  Store s = Store::open(path_);
  auto c =
      new_case(s, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 1));
  auto later = outbox(c.id, OutboxKind::documentation_request, "<req@asker>");
  later.next_attempt_at = iso_utc(at(2026, 3, 5));
  auto req = s.outbox().enqueue_outbox(later, at(2026, 3, 1)).id;
  auto dec = s.outbox()
                 .enqueue_outbox(outbox(c.id, OutboxKind::decision, "<dec@asker>"), at(2026, 3, 2))
                 .id;

  EXPECT_FALSE(s.outbox().next_due_outbox(at(2026, 3, 1)).has_value());
  auto due = s.outbox().next_due_outbox(at(2026, 3, 3));
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->id, dec);
  s.outbox().begin_send(dec, at(2026, 3, 3));
  EXPECT_FALSE(s.outbox().next_due_outbox(at(2026, 3, 3)).has_value());
  EXPECT_EQ(s.outbox().next_due_outbox(at(2026, 3, 6))->id, req);

  // A failed attempt is retried later.
  s.outbox().mark_outbox(req, OutboxStatus::sending, "", std::nullopt);
  s.outbox().mark_outbox(req, OutboxStatus::pending, "421 try later", at(2026, 3, 7));
  EXPECT_FALSE(s.outbox().next_due_outbox(at(2026, 3, 6)).has_value());
  auto retry = s.outbox().next_due_outbox(at(2026, 3, 8));
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->attempts, 1);
  EXPECT_EQ(retry->last_error, "421 try later");

  // The daemon died after handing the decision's data over: it may or may not have gone out.
  s.outbox().mark_data_handed_over(dec);
  EXPECT_EQ(s.outbox().recover_outbox(), 1);
  EXPECT_EQ(s.outbox().outbox_item(dec)->status, OutboxStatus::uncertain);
  EXPECT_THROW(s.outbox().mark_outbox(999, OutboxStatus::sent, "", std::nullopt), StoreError);

  // A reply to our request finds the case through the outbox's Message-ID.
  auto found = s.cases().find_case_by_message_id("<req@asker>");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, c.id);
}

// ---- concurrency and crash safety ----------------------------------------------------------

TEST_F(StoreTest, SecondStoreOnTheSameFileSeesCommittedDataOnly) {
  Store daemon = Store::open(path_);
  Store admin = Store::open(path_);
  auto c = new_case(daemon, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}),
                    at(2026, 3, 1));
  daemon.cases().transition(c.id, CaseState::flagged, "daemon", "assessed", at(2026, 3, 1));
  auto seen = admin.cases().find_case_by_ref(c.ref);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->state, CaseState::flagged);

  admin.cases().transition(c.id, CaseState::decided, "admin:kari", "checked roster",
                           at(2026, 3, 2));
  EXPECT_EQ(daemon.cases().find_case(c.id)->state, CaseState::decided);

  daemon.transaction([&] {
    new_case(daemon, 2, assessment({{"Ola", rules::Outcome::approved, 10, "x"}}), at(2026, 3, 3));
    // Not committed yet: the admin's reader does not see it and is not blocked.
    EXPECT_EQ(admin.cases().list_cases().size(), 1u);
  });
  EXPECT_EQ(admin.cases().list_cases().size(), 2u);
}

TEST_F(StoreTest, TransactionThatThrowsLeavesNothing) {
  Store s = Store::open(path_);
  auto row = record(s, 1);
  auto a = assessment({{"Kari", rules::Outcome::approved, 50000, "state_rejected_cap"}});
  EXPECT_THROW(s.transaction([&] {
    auto c = s.cases().create_case(a, row, at(2026, 3, 1));
    s.cases().transition(c.id, CaseState::decided, "daemon", "assessed", at(2026, 3, 1));
    s.outbox().enqueue_outbox(outbox(c.id, OutboxKind::decision, "<d@asker>"), at(2026, 3, 1));
    throw std::runtime_error("crash before commit");
  }),
               std::runtime_error);
  EXPECT_TRUE(s.cases().list_cases().empty());
  EXPECT_FALSE(s.messages().message(row)->case_id.has_value());
  EXPECT_TRUE(s.ledger().prior_grants(2026).empty());
  EXPECT_FALSE(s.outbox().next_due_outbox(at(2027, 1, 1)).has_value());
  // Nothing half-done either in another connection, and the ref was not used up.
  Store other = Store::open(path_);
  EXPECT_TRUE(other.cases().list_cases().empty());
  EXPECT_EQ(s.cases().create_case(a, row, at(2026, 3, 2)).ref, "TT-2026-0001");
}

TEST_F(StoreTest, NestedTransactionRollsBackOnlyItsOwnPart) {
  Store s = Store::open(path_);
  s.transaction([&] {
    s.messages().set_checkpoint("INBOX", 7, 10, at(2026, 3, 1));
    try {
      s.transaction([&] {
        s.messages().set_checkpoint("INBOX", 7, 99, at(2026, 3, 1));
        throw std::runtime_error("inner");
      });
    } catch (const std::runtime_error&) {
    }
  });
  EXPECT_EQ(s.messages().checkpoint("INBOX")->highest_uid, 10u);
}

// Calls `between` once, on the reader's connection, just before it starts the statement whose
// SQL contains `marker`: a writer can commit there, between two reads of one call.
class CommitBetweenReads {
 public:
  CommitBetweenReads(Store& reader, std::string marker, std::function<void()> between)
      : marker_(std::move(marker)), between_(std::move(between)) {
    db_ = dynamic_cast<SqliteBackend&>(reader.backend()).db().handle();
    sqlite3_trace_v2(db_, SQLITE_TRACE_STMT, &CommitBetweenReads::trace, this);
  }
  ~CommitBetweenReads() { sqlite3_trace_v2(db_, 0, nullptr, nullptr); }
  bool fired() const { return fired_; }

 private:
  static int trace(unsigned, void* self, void* stmt, void*) {
    auto* me = static_cast<CommitBetweenReads*>(self);
    const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
    if (!me->fired_ && sql && std::string_view(sql).find(me->marker_) != std::string_view::npos) {
      me->fired_ = true;
      me->between_();
    }
    return 0;
  }
  sqlite3* db_ = nullptr;
  std::string marker_;
  std::function<void()> between_;
  bool fired_ = false;
};

TEST_F(StoreTest, FindCaseNeverMixesTwoCommits) {
  Store reader = Store::open(path_);
  auto c = new_case(reader, 1, assessment({{"Kari", rules::Outcome::approved, 10, "x"}}),
                    at(2026, 3, 1));
  Store writer = Store::open(path_);
  // Between the case's row and its lines, the daemon commits a new decision with two lines.
  CommitBetweenReads hook(reader, "FROM case_lines WHERE case_id", [&] {
    Assessment b = assessment(
        {{"Kari", rules::Outcome::approved, 20, "x"}, {"Ola", rules::Outcome::approved, 30, "x"}});
    writer.cases().update_decision(c.id, b.form, b.decision, {}, "daemon", at(2026, 3, 2));
  });
  auto seen = reader.cases().find_case(c.id);
  ASSERT_TRUE(hook.fired());
  ASSERT_TRUE(seen.has_value());
  // The state before the commit, whole: one line, and the total that goes with it.
  ASSERT_EQ(seen->lines.size(), 1u);
  EXPECT_EQ(seen->total, 10);
  EXPECT_EQ(seen->lines[0].amount, 10);
  // And the commit is there for the next read.
  auto after = reader.cases().find_case(c.id);
  ASSERT_EQ(after->lines.size(), 2u);
  EXPECT_EQ(after->total, 50);
}

TEST_F(StoreTest, ReadTransactionSpansAggregates) {
  Store reader = Store::open(path_);
  auto c =
      new_case(reader, 1,
               assessment({{"Kari", rules::Outcome::flagged, 0, "x"}}, rules::CaseStatus::flagged),
               at(2026, 3, 1));
  Store writer = Store::open(path_);
  // `cases show`: the case, then its events; the daemon moves the case in between.
  CommitBetweenReads hook(reader, "FROM events WHERE case_id", [&] {
    writer.cases().transition(c.id, CaseState::flagged, "daemon", "assessed", at(2026, 3, 2));
  });
  auto [state, events] = reader.read_transaction([&] {
    auto seen = reader.cases().find_case(c.id);
    return std::make_pair(seen->state, reader.events().case_events(c.id));
  });
  ASSERT_TRUE(hook.fired());
  EXPECT_EQ(state, CaseState::received);
  ASSERT_EQ(events.size(), 1u);  // not the transition's event: it came after this state
  EXPECT_EQ(events.back().to, state);
  EXPECT_EQ(reader.events().case_events(c.id).size(), 2u);
}

TEST_F(StoreTest, NoWriteInsideAReadTransaction) {
  Store s = Store::open(path_);
  EXPECT_THROW(s.read_transaction([&] {
    s.messages().set_checkpoint("INBOX", 1, 2, at(2026, 1, 1));  // no transaction: fine
    s.transaction([] {});
  }),
               StoreError);
  // Reads inside a write transaction read in it; nothing is left open.
  s.transaction([&] {
    s.messages().set_checkpoint("INBOX", 7, 9, at(2026, 1, 1));
    EXPECT_EQ(s.read_transaction([&] { return s.messages().checkpoint("INBOX")->highest_uid; }),
              9u);
  });
  s.transaction([] {});
}

TEST_F(StoreTest, StoreIsMovable) {
  Store a = Store::open(path_);
  a.messages().set_checkpoint("INBOX", 1, 2, at(2026, 1, 1));
  Store b = std::move(a);
  EXPECT_EQ(b.messages().checkpoint("INBOX")->highest_uid, 2u);
}

}  // namespace
}  // namespace tilskudd
