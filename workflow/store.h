// The daemon's store: mailbox checkpoints, every message fetched (raw bytes content-addressed),
// cases with their lines and letters, an append-only event log, the yearly ledger behind the
// per-student cap, and the outbox of letters to send; one aggregate each
// (workflow/store_interfaces.h says what each promises), over one connection.
//
// The backend is SQLite (workflow/store_sqlite.h): one Store owns one connection. Several
// Stores (the daemon and an admin command) may open the same file at once: WAL lets readers see
// every committed transaction, and writers queue on BEGIN IMMEDIATE with a busy timeout.
//
// Callers take the narrowest interface they need (the outbox worker: OutboxStore, CaseStore and
// EventLog); code that commits across aggregates (intake) takes the Store for transaction().
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "workflow/store_interfaces.h"
#include "workflow/store_types.h"

namespace tilskudd {

class Store {
 public:
  // Opens (creating when missing) the SQLite file and migrates it to the latest schema. Throws
  // StoreError.
  static Store open(const std::string& path);
  explicit Store(std::unique_ptr<StoreBackend> backend) : backend_(std::move(backend)) {}

  MessageLog& messages() { return backend_->messages(); }
  CaseStore& cases() { return backend_->cases(); }
  EventLog& events() { return backend_->events(); }
  Ledger& ledger() { return backend_->ledger(); }
  OutboxStore& outbox() { return backend_->outbox(); }
  Transactions& transactions() { return *backend_; }
  StoreBackend& backend() { return *backend_; }

  // Runs fn in one write transaction across every aggregate (BEGIN IMMEDIATE; a savepoint when
  // nested): committed when fn returns, rolled back when it throws (the exception goes on).
  template <class F>
  auto transaction(F&& fn) -> std::invoke_result_t<F&> {
    return backend_->write(fn);
  }
  // Runs fn in one read transaction: what fn reads comes from one committed state (`cases show`
  // never mixes two commits). Inside a transaction fn reads in that one.
  template <class F>
  auto read_transaction(F&& fn) -> std::invoke_result_t<F&> {
    return backend_->read(fn);
  }

  // The database file's path as SQLite resolved it ("" for an in-memory store).
  std::string path() const { return backend_->path(); }
  int schema_version() { return backend_->schema_version(); }
  // SQLite's journal mode ("wal").
  std::string journal_mode();

  // The SQLite schema's migrations, in order: migration i brings user_version from i to i+1.
  static std::span<const std::string_view> migrations();
  static int latest_version();

 private:
  std::unique_ptr<StoreBackend> backend_;
};

}  // namespace tilskudd
