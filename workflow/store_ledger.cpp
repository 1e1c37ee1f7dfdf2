#include "workflow/store_sqlite.h"

namespace tilskudd {

rules::PriorGrants SqliteLedger::prior_grants(int year) {
  Stmt q(
      db_.prepare("SELECT employee_key, SUM(amount) FROM ledger WHERE year = ? AND kind = ? "
                  "GROUP BY employee_key"));
  q.i64(1, year).text(2, rules::kCapReasonCode);
  rules::PriorGrants out;
  while (q.step()) out[q.col_text(0)] = q.col_i64(1);
  return out;
}

void SqliteLedger::add_ledger(int year, const std::string& employee_key, std::int64_t case_id,
                              Kroner amount, const std::string& kind) {
  Stmt q(db_.prepare(
      "INSERT INTO ledger(year, employee_key, case_id, amount, kind) VALUES (?, ?, ?, ?, ?)"));
  q.i64(1, year).text(2, employee_key).i64(3, case_id).i64(4, amount).text(5, kind).run();
}

std::vector<LedgerEntry> SqliteLedger::ledger_entries(std::optional<int> year,
                                                      std::optional<std::string> employee_key) {
  Stmt q(db_.prepare(
      "SELECT l.year, l.employee_key, l.case_id, c.ref, COALESCE(c.round, ''), l.amount, l.kind "
      "FROM ledger l JOIN cases c ON c.id = l.case_id "
      "WHERE (?1 IS NULL OR l.year = ?1) AND (?2 IS NULL OR l.employee_key = ?2) ORDER BY l.id"));
  if (year)
    q.i64(1, *year);
  else
    q.null(1);
  if (employee_key)
    q.text(2, *employee_key);
  else
    q.null(2);
  std::vector<LedgerEntry> out;
  while (q.step()) {
    LedgerEntry e;
    e.year = static_cast<int>(q.col_i64(0));
    e.employee_key = q.col_text(1);
    e.case_id = q.col_i64(2);
    e.case_ref = q.col_text(3);
    e.round = q.col_text(4);
    e.amount = q.col_i64(5);
    e.kind = q.col_text(6);
    e.counts_toward_cap = e.kind == rules::kCapReasonCode;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tilskudd
