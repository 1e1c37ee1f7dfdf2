#include "daemon/poller.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include <unistd.h>

#include "daemon/imap_protocol.h"
#include "daemon/log.h"
#include "parsers/mime.h"

namespace tilskudd {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string header_message_id(std::string_view raw) {
  std::string_view head = raw;
  if (auto end = head.find("\r\n\r\n"); end != std::string_view::npos) {
    head = head.substr(0, end + 4);
  } else if (auto lf = head.find("\n\n"); lf != std::string_view::npos) {
    head = head.substr(0, lf + 2);
  }
  return mime::parse(head).headers.message_id;
}

// The message in hand (Poller::in_flight_path_): one line, "<uidvalidity> <uid> <deaths>
// <mailbox>". A torn or foreign file reads as nothing.
struct InFlight {
  std::string mailbox;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
  int deaths = 0;  // earlier processes that died with this message in hand
  bool same_message(const InFlight& o) const {
    return mailbox == o.mailbox && uidvalidity == o.uidvalidity && uid == o.uid;
  }
};

std::optional<InFlight> read_in_flight(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  InFlight f;
  if (!(in >> f.uidvalidity >> f.uid >> f.deaths) || f.deaths < 0) return std::nullopt;
  in.get();
  if (!std::getline(in, f.mailbox) || f.mailbox.empty()) return std::nullopt;
  return f;
}

void write_in_flight(const std::string& path, const InFlight& f) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::trunc);
  out << f.uidvalidity << ' ' << f.uid << ' ' << f.deaths << ' ' << f.mailbox << '\n';
}

void remove_in_flight(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

log::Context log_context_of(const IncomingMessage& m) {
  return {"", m.message_id,
          m.mailbox + "/" + std::to_string(m.uidvalidity) + "/" + std::to_string(m.uid)};
}

// Store failures that are about this message (a rule of the state machine, our own checks),
// not about the database: the message fails, the mailbox goes on.
bool message_specific(const StoreError& e) {
  return dynamic_cast<const IllegalTransition*>(&e) != nullptr || e.code() == 0;
}

}  // namespace

std::string mailbox_from_url(const std::string& url) {
  auto scheme = url.find("://");
  std::size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  auto slash = url.find('/', host_start);
  if (slash == std::string::npos || slash + 1 >= url.size()) return "INBOX";
  std::string path = url.substr(slash + 1);
  if (auto q = path.find_first_of("?;"); q != std::string::npos) path.resize(q);
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 &&
        hex_value(path[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out.empty() ? "INBOX" : out;
}

std::string internaldate_to_iso(const std::string& s) {
  // dd-Mon-yyyy hh:mm:ss +zzzz, the day possibly space-padded.
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  char mon[4] = {0};
  char sign = '+';
  int zone = 0;
  if (std::sscanf(s.c_str(), " %d-%3s-%d %d:%d:%d %c%4d", &day, mon, &year, &hh, &mm, &ss, &sign,
                  &zone) != 8) {
    return "";
  }
  int month = 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (std::strncmp(mon, kMonths[i], 3) == 0) month = static_cast<int>(i) + 1;
  }
  if (month == 0 || day < 1 || day > 31 || (sign != '+' && sign != '-') || year < 0 ||
      year > 9999 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 || zone < 0 ||
      zone > 9999)
    return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", year, month, day, hh,
                mm, ss, sign, zone / 100, zone % 100);
  return buf;
}

std::string search_criteria(std::uint32_t first_uid, const std::string& case_number) {
  // The serial part of "20/30298" is what every spelling shares ("20 / 30298", "2020/30298",
  // "sak 20/30298"); the parser then decides whether it really is the case number.
  std::string serial = case_number;
  if (auto slash = serial.rfind('/'); slash != std::string::npos) serial = serial.substr(slash + 1);
  while (!serial.empty() && serial.front() == ' ') serial.erase(serial.begin());
  // The config's case number is checked text; a value that cannot be quoted searches nothing.
  const std::string n = imap::quote(serial).value_or("\"\"");
  const std::string t = "\"tilretteleggingstilskudd\"";
  const std::string m = "\"tilretteleggingsmidler\"";
  return "UID " + std::to_string(first_uid) + ":* OR (OR SUBJECT " + n + " BODY " + n +
         ") (HEADER Content-Type \"multipart/mixed\" OR (OR SUBJECT " + t + " SUBJECT " + m +
         ") (OR BODY " + t + " BODY " + m + "))";
}

Poller::Poller(const config::Config& config, Store& store, const IntakeSettings& intake,
               ImapClient& imap, NoteSink notes, bool read_only)
    : config_(config),
      store_(store),
      intake_(intake),
      imap_(imap),
      notes_(std::move(notes)),
      mailbox_(mailbox_from_url(config.mailbox.url)),
      read_only_(read_only) {
  if (const std::string p = store_.path(); !p.empty()) in_flight_path_ = p + ".inflight";
}

MailboxInfo Poller::open_mailbox() {
  return read_only_ ? imap_.examine(mailbox_) : imap_.select(mailbox_);
}

void Poller::ensure_selected() {
  if (!imap_.connected()) {
    imap_.connect();
    selected_ = false;
    if (on_login_) on_login_();
  }
}

void Poller::count(const IntakeOutcome& o, PollStats& stats) {
  switch (o.kind) {
    case IntakeOutcome::Kind::new_case:
      ++stats.new_cases;
      break;
    case IntakeOutcome::Kind::merged:
      ++stats.merged;
      break;
    case IntakeOutcome::Kind::duplicate:
      ++stats.duplicates;
      break;
    case IntakeOutcome::Kind::ignored:
      ++stats.ignored;
      break;
    case IntakeOutcome::Kind::already_processed:
      break;
  }
  for (const auto& n : o.notes) notes_(n);
}

void Poller::mark(std::int64_t row, std::uint32_t uid, bool quarantine, PollStats& stats) {
  if (read_only_) {
    // Shadow mode never writes to the mailbox; the scratch store remembers it as marked.
    store_.set_mailbox_state(row, quarantine ? "quarantined" : "marked");
    return;
  }
  const std::string set = std::to_string(uid);
  const std::string& keyword =
      quarantine ? config_.mailbox.quarantine_keyword : config_.mailbox.keyword;
  if (keywords_allowed_) {
    try {
      imap_.uid_store_add_flags(set, keyword);
    } catch (const ImapError& e) {
      if (e.kind() != ImapError::Kind::no && e.kind() != ImapError::Kind::bad) throw;
      keywords_allowed_ = false;
      notes_({"", true,
              "the mailbox refuses the keyword " + keyword + " (" + e.server_text() +
                  "); processed messages are tracked in the store only"});
    }
  }
  if (!quarantine && !config_.mailbox.move_to.empty()) {
    if (!move_folder_ready_) {
      try {
        imap_.create(config_.mailbox.move_to);
      } catch (const ImapError& e) {
        if (e.kind() != ImapError::Kind::no) throw;  // NO: it exists already
      }
      move_folder_ready_ = true;
    }
    try {
      imap_.uid_move(set, config_.mailbox.move_to);
    } catch (const ImapError& e) {
      if (e.kind() == ImapError::Kind::network || e.kind() == ImapError::Kind::timeout ||
          e.kind() == ImapError::Kind::bye)
        throw;
      notes_({"", true,
              "could not move message UID " + set + " to " + config_.mailbox.move_to + ": " +
                  e.what()});
    }
  }
  store_.set_mailbox_state(row, quarantine ? "quarantined" : "marked");
  ++stats.marked;
}

void Poller::mark_pending(std::uint32_t uidvalidity, PollStats& stats) {
  for (const char* state : {"to_mark", "to_quarantine"}) {
    for (const MessageRecord& m : store_.messages_with_mailbox_state(mailbox_, state)) {
      if (m.uidvalidity != uidvalidity) {
        // That UID means nothing any more; the message is found again by its Message-ID.
        store_.set_mailbox_state(m.id, "none");
        continue;
      }
      mark(m.id, m.uid, std::string(state) == "to_quarantine", stats);
    }
  }
}

void Poller::reapprove(std::uint32_t new_uidvalidity, Timestamp now) {
  // As mbsync does: the mailbox was recreated or restored. Known messages must be found again
  // by Message-ID before anything is read under the new UIDs.
  std::vector<std::string> known =
      store_.known_message_ids(mailbox_, /*only_unmoved=*/!config_.mailbox.move_to.empty());
  std::vector<std::string> sample;
  const std::size_t want = std::min<std::size_t>(known.size(), 50);
  for (std::size_t i = 0; i < want; ++i) sample.push_back(known[i * known.size() / want]);
  std::size_t found = 0;
  for (const auto& id : sample) {
    auto quoted = imap::quote("<" + id + ">");
    if (!quoted) continue;  // 8-bit ids cannot be searched for; they count as not found
    auto uids = imap_.uid_search("HEADER Message-ID " + *quoted);
    if (!uids.empty()) ++found;
  }
  auto cp = store_.checkpoint(mailbox_);
  const std::string change = "UIDVALIDITY of " + mailbox_ + " changed from " +
                             std::to_string(cp ? cp->uidvalidity : 0) + " to " +
                             std::to_string(new_uidvalidity);
  if (!sample.empty() && found * 2 < sample.size()) {
    throw MailboxChanged(change + " and only " + std::to_string(found) + " of " +
                         std::to_string(sample.size()) +
                         " known messages were found again; a person must check the mailbox "
                         "before tilskudd reads it again");
  }
  store_.set_checkpoint(mailbox_, new_uidvalidity, 0, now);
  notes_({"", true,
          change + "; " + std::to_string(found) + " of " + std::to_string(sample.size()) +
              " known messages found again, so the mailbox is re-read; messages seen before "
              "keep their cases"});
}

// The message as intake takes it; `raw` must outlive the result (it is a view).
IncomingMessage Poller::incoming(std::uint32_t uidvalidity, std::uint32_t uid, std::string_view raw,
                                 const MessageMeta* meta) const {
  IncomingMessage m;
  m.mailbox = mailbox_;
  m.uidvalidity = uidvalidity;
  m.uid = uid;
  m.raw = raw;
  m.message_id = header_message_id(raw);
  m.received = meta ? internaldate_to_iso(meta->internaldate) : "";
  return m;
}

// A message that cannot be read safely: its header is fetched instead of the whole of it, and it
// becomes a flagged case at once (the quarantine keyword in the mailbox too), since no retry
// could help: a person reads it in the mailbox.
void Poller::quarantine_unread(std::uint32_t uidvalidity, std::uint32_t uid,
                               const MessageMeta* meta, const std::string& error, PollStats& stats,
                               Timestamp now) {
  auto head = imap_.uid_fetch_header_peek(uid);
  if (!head) return;  // expunged meanwhile
  ++stats.fetched;
  const IncomingMessage m = incoming(uidvalidity, uid, *head, meta);
  log::ScopedContext log_context(log_context_of(m));
  const auto [row, outcome] = store_.transaction([&] {
    auto [r, attempts] = record_failure(store_, m, error);
    (void)attempts;
    IntakeOutcome q = quarantine_message(store_, r, error, intake_, now);
    auto cp = store_.checkpoint(mailbox_);
    std::uint32_t highest = cp && cp->uidvalidity == uidvalidity ? cp->highest_uid : 0;
    store_.set_checkpoint(mailbox_, uidvalidity, std::max(highest, uid), now);
    return std::make_pair(r, q);
  });
  ++stats.quarantined;
  count(outcome, stats);
  notes_({"", true, "message UID " + std::to_string(uid) + ": " + error});
  mark(row, uid, true, stats);
}

void Poller::process_uid(std::uint32_t uidvalidity, std::uint32_t uid, const MessageMeta* meta,
                         PollStats& stats, Timestamp now) {
  // A message larger than [limits] max_message_bytes is not fetched whole: its literal alone
  // would break the IMAP client's limit, and every poll would fail on it again.
  if (meta && meta->size > config_.limits.mime.max_message_bytes) {
    auto mib = [](std::uint64_t n) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
      return std::string(buf);
    };
    quarantine_unread(uidvalidity, uid, meta,
                      "the message is " + mib(meta->size) + ", over the limit of " +
                          mib(config_.limits.mime.max_message_bytes) +
                          " ([limits] max_message_bytes): only its header was read; a person "
                          "must read it in the mailbox",
                      stats, now);
    return;
  }
  // Did an earlier process die while it had this message in hand?
  InFlight here{mailbox_, uidvalidity, uid, 0};
  if (auto before = read_in_flight(in_flight_path_); before && before->same_message(here)) {
    here.deaths = before->deaths + 1;
    notes_({"", true,
            "the daemon stopped " + std::to_string(here.deaths) +
                " time(s) while it had message UID " + std::to_string(uid) +
                " in hand (a crash, an out-of-memory kill, or a SIGKILL); at " +
                std::to_string(config_.mailbox.max_attempts) + " it is quarantined unread"});
  }
  if (here.deaths >= config_.mailbox.max_attempts) {
    quarantine_unread(uidvalidity, uid, meta,
                      "the daemon stopped " + std::to_string(here.deaths) +
                          " times while reading this message (a crash or an out-of-memory "
                          "kill): only its header was read; a person must read it in the "
                          "mailbox",
                      stats, now);
    remove_in_flight(in_flight_path_);
    return;
  }
  write_in_flight(in_flight_path_, here);
  // Removed whenever this function is left, also by an exception: only death leaves it behind.
  struct Done {
    const std::string& path;
    ~Done() { remove_in_flight(path); }
  } done{in_flight_path_};
  auto raw = imap_.uid_fetch_body_peek(uid);
  if (!raw) return;  // expunged meanwhile
  ++stats.fetched;
  const IncomingMessage m = incoming(uidvalidity, uid, *raw, meta);
  // Journald fields for every line logged while this message is in hand.
  log::ScopedContext log_context(log_context_of(m));
  auto advance = [&] {
    auto cp = store_.checkpoint(mailbox_);
    std::uint32_t highest = cp && cp->uidvalidity == uidvalidity ? cp->highest_uid : 0;
    store_.set_checkpoint(mailbox_, uidvalidity, std::max(highest, uid), now);
  };
  std::string error;
  try {
    IntakeOutcome o = store_.transaction([&] {
      IntakeOutcome out = intake_message(store_, m, intake_, now);
      advance();
      return out;
    });
    count(o, stats);
    if (o.mark_in_mailbox) mark(o.message_row, uid, false, stats);
    return;
  } catch (const StoreError& e) {
    if (!message_specific(e)) throw;
    error = e.what();
  } catch (const ImapError&) {
    throw;
  } catch (const std::exception& e) {
    error = e.what();
  }
  // This message failed; the rest of the mailbox goes on.
  ++stats.failed;
  auto [row, attempts] = store_.transaction([&] {
    auto r = record_failure(store_, m, error);
    advance();
    return r;
  });
  notes_({"", true,
          "message UID " + std::to_string(uid) + " could not be processed (attempt " +
              std::to_string(attempts) + " of " + std::to_string(config_.mailbox.max_attempts) +
              "): " + error});
  if (attempts >= config_.mailbox.max_attempts) {
    IntakeOutcome q = quarantine_message(store_, row, error, intake_, now);
    ++stats.quarantined;
    count(q, stats);
    mark(row, uid, true, stats);
  }
}

void Poller::retry_failed(PollStats& stats, Timestamp now) {
  for (const MessageRecord& m : store_.messages_with_status("failed")) {
    if (m.mailbox != mailbox_) continue;
    // Backoff: after n failures, try again every 2^n polls.
    const int shift = std::min(m.attempts, 6);
    if (cycles_ % (std::uint64_t{1} << shift) != 0) continue;
    std::string error;
    try {
      IntakeOutcome o = retry_message(store_, m.id, intake_, now);
      count(o, stats);
      if (o.mark_in_mailbox) store_.set_mailbox_state(o.message_row, "to_mark");
      continue;
    } catch (const StoreError& e) {
      if (!message_specific(e)) throw;
      error = e.what();
    } catch (const std::exception& e) {
      error = e.what();
    }
    store_.mark_message(m.id, "failed", error);
    ++stats.failed;
    if (m.attempts + 1 >= config_.mailbox.max_attempts) {
      IntakeOutcome q = quarantine_message(store_, m.id, error, intake_, now);
      ++stats.quarantined;
      count(q, stats);
    }
  }
}

PollStats Poller::poll(const std::function<Timestamp()>& clock, const std::atomic<bool>& stop) {
  PollStats stats;
  ++cycles_;
  ensure_selected();
  Timestamp now = clock();

  auto cp = store_.checkpoint(mailbox_);
  const bool pending_marks = !store_.messages_with_mailbox_state(mailbox_, "to_mark").empty() ||
                             !store_.messages_with_mailbox_state(mailbox_, "to_quarantine").empty();
  bool failed_waiting = false;
  for (const auto& m : store_.messages_with_status("failed"))
    failed_waiting |= m.mailbox == mailbox_;

  if (!selected_) {
    // The first poll on a connection selects at once (it marks messages and needs UIDNEXT).
    MailboxInfo info = open_mailbox();
    selected_ = true;
    keywords_allowed_ =
        std::any_of(info.permanent_flags.begin(), info.permanent_flags.end(),
                    [](const std::string& f) { return f == "\\*"; }) ||
        std::any_of(info.permanent_flags.begin(), info.permanent_flags.end(),
                    [&](const std::string& f) { return f == config_.mailbox.keyword; });
  }
  // STATUS on the selected mailbox answers from the session's view; NOOP brings the view up to
  // date first (Dovecot otherwise reports the UIDNEXT of the last SELECT).
  imap_.noop();
  MailboxStatus st = imap_.status(mailbox_);
  const bool same_validity = cp && cp->uidvalidity == st.uidvalidity;
  if (same_validity && st.uidnext > 0 && st.uidnext - 1 <= cp->highest_uid && !pending_marks &&
      !failed_waiting) {
    stats.idle = true;
    return stats;
  }
  // Re-select: the selected mailbox's view must include what STATUS saw.
  MailboxInfo info = open_mailbox();
  if (cp && cp->uidvalidity != info.uidvalidity) reapprove(info.uidvalidity, now);
  retry_failed(stats, now);
  mark_pending(info.uidvalidity, stats);

  cp = store_.checkpoint(mailbox_);
  const std::uint32_t highest = cp && cp->uidvalidity == info.uidvalidity ? cp->highest_uid : 0;
  const std::uint32_t first = highest + 1;
  std::vector<std::uint32_t> uids = imap_.uid_search(search_criteria(first, config_.case_.number));
  // "n:*" always includes the highest UID, even below n (RFC 3501 6.4.8).
  uids.erase(std::remove_if(uids.begin(), uids.end(), [&](auto u) { return u < first; }),
             uids.end());
  std::sort(uids.begin(), uids.end());
  stats.candidates = static_cast<int>(uids.size());

  for (std::size_t i = 0; i < uids.size(); i += 200) {
    std::vector<std::uint32_t> batch(
        uids.begin() + static_cast<std::ptrdiff_t>(i),
        uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), i + 200)));
    std::vector<MessageMeta> metas = imap_.uid_fetch_meta(imap::format_uid_set(batch));
    for (std::uint32_t uid : batch) {
      if (stop.load()) {
        stats.stopped_early = true;
        return stats;
      }
      auto it =
          std::find_if(metas.begin(), metas.end(), [&](const auto& m) { return m.uid == uid; });
      process_uid(info.uidvalidity, uid, it == metas.end() ? nullptr : &*it, stats, clock());
    }
  }
  // Everything below UIDNEXT at SELECT time was searched: the checkpoint may move up to it.
  if (info.uidnext > 1) {
    auto now_cp = store_.checkpoint(mailbox_);
    std::uint32_t h = now_cp && now_cp->uidvalidity == info.uidvalidity ? now_cp->highest_uid : 0;
    store_.set_checkpoint(mailbox_, info.uidvalidity, std::max(h, info.uidnext - 1), clock());
  } else if (!store_.checkpoint(mailbox_)) {
    store_.set_checkpoint(mailbox_, info.uidvalidity, 0, clock());
  }
  return stats;
}

}  // namespace tilskudd
