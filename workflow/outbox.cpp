#include "workflow/outbox.h"

#include <algorithm>
#include <cmath>

namespace tilskudd {

std::chrono::seconds backoff_delay(const OutboxPolicy& policy, int attempts) {
  double base = static_cast<double>(policy.base_delay.count());
  double cap = static_cast<double>(policy.max_delay.count());
  double d = std::min(cap, base * std::pow(2.0, std::max(0, attempts - 1)));
  // Full delay in [d/2, d): spreads retries of many items over time.
  double j = std::clamp(policy.jitter ? policy.jitter() : 0.5, 0.0, 1.0);
  // Never 0: a retry in the same run would count as the next attempt at once.
  return std::chrono::seconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(d * (0.5 + 0.5 * j))));
}

namespace {

// Writes what the mail server said about one send: sent (and the case's transition), retry
// later, failed, or uncertain. Called inside a transaction.
void record_send(OutboxStore& outbox, CaseStore& cases, EventLog& events, const OutboxItem& item,
                 const std::optional<CaseRecord>& c, const SendAttempt& r,
                 const OutboxPolicy& policy, Timestamp now, OutboxRun& run) {
  const std::string ref = c ? c->ref : std::string();
  const std::string kind(enum_name(item.kind));
  const int attempts = item.attempts + 1;
  switch (r.outcome) {
    case SendOutcome::accepted:
      outbox.mark_outbox(item.id, OutboxStatus::sent, "", std::nullopt);
      ++run.sent;
      if (c) {
        if (item.kind == OutboxKind::decision && c->state == CaseState::decided) {
          cases.transition(c->id, CaseState::decision_sent, "daemon",
                           "decision accepted by the mail server", now,
                           {{"message_id", item.message_id}});
          run.notes.push_back({ref, false, "decided -> decision_sent"});
        } else {
          events.add_event(c->id, "daemon", kind + " sent", now, {{"message_id", item.message_id}});
          run.notes.push_back({ref, false, kind + " sent"});
        }
      }
      break;
    case SendOutcome::temporary:
      if (r.data_handed_over) {
        outbox.mark_outbox(item.id, OutboxStatus::uncertain, r.detail, std::nullopt);
        ++run.uncertain;
        run.notes.push_back({ref, true,
                             kind + " may or may not have been delivered (" + r.detail +
                                 "); it is not resent: a person must check"});
      } else if (attempts >= policy.max_attempts) {
        outbox.mark_outbox(item.id, OutboxStatus::failed, r.detail, std::nullopt);
        ++run.failed;
        if (c) events.add_event(c->id, "daemon", kind + " failed: " + r.detail, now);
        run.notes.push_back({ref, true,
                             kind + " failed " + std::to_string(attempts) + " times (" + r.detail +
                                 "); a person must send it"});
      } else {
        auto delay = backoff_delay(policy, attempts);
        outbox.mark_outbox(item.id, OutboxStatus::pending, r.detail, now + delay);
        ++run.retried;
        run.notes.push_back({ref, false,
                             kind + " not sent (" + r.detail + "); retry in " +
                                 std::to_string(delay.count()) + " s"});
      }
      break;
    case SendOutcome::permanent:
      // A 5xx is a definite answer, also after the data: the mail was not accepted.
      outbox.mark_outbox(item.id, OutboxStatus::failed, r.detail, std::nullopt);
      ++run.failed;
      if (c) events.add_event(c->id, "daemon", kind + " refused: " + r.detail, now);
      run.notes.push_back({ref, true,
                           kind + " refused by the mail server (" + r.detail +
                               "); a person must contact the applicant"});
      break;
  }
}

}  // namespace

OutboxRun run_outbox(Store& store, const SendFn& send, const OutboxPolicy& policy,
                     const std::function<Timestamp()>& clock, const std::function<bool()>& stop,
                     int max_items, UnrecordedSends* unrecorded) {
  OutboxRun run;
  // First what earlier runs could not write down. A store error here stops this run, with the
  // rest still remembered.
  while (unrecorded && !unrecorded->empty()) {
    const UnrecordedSend& u = unrecorded->front();
    store.transaction([&] {
      record_send(store.outbox(), store.cases(), store.events(), u.item,
                  store.cases().find_case(u.item.case_id), u.result, policy, u.at, run);
    });
    unrecorded->erase(unrecorded->begin());
  }
  for (int i = 0; i < max_items; ++i) {
    if (stop && stop()) break;
    Timestamp now = clock();
    auto item = store.outbox().next_due_outbox(now);
    if (!item) break;
    auto c = store.cases().find_case(item->case_id);
    const std::string ref = c ? c->ref : std::string();
    const std::string kind(enum_name(item->kind));

    // A burst of mail to one address (a loop with an auto-responder that slipped through, or
    // an applicant who writes again and again) waits instead of flooding them.
    if (store.outbox().count_outbox_to(item->recipient, now - std::chrono::hours(24)) >=
        policy.max_per_recipient_per_day) {
      store.outbox().mark_outbox(item->id, OutboxStatus::pending, "per-recipient limit reached",
                                 now + std::chrono::hours(1));
      ++run.deferred;
      run.notes.push_back(
          {ref, true,
           kind + " held back for an hour: " + std::to_string(policy.max_per_recipient_per_day) +
               " mails to this recipient in 24 hours"});
      continue;
    }

    store.outbox().begin_send(item->id, now);
    const std::int64_t id = item->id;
    SendAttempt r = send(*item, [&store, id] { store.outbox().mark_data_handed_over(id); });
    now = clock();
    try {
      store.transaction([&] {
        record_send(store.outbox(), store.cases(), store.events(), *item, c, r, policy, now, run);
      });
    } catch (const StoreError&) {
      if (unrecorded) unrecorded->push_back({*item, r, now});
      throw;
    }
  }
  return run;
}
}  // namespace tilskudd
