#include "daemon/imap_source.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <vector>

#include "daemon/imap_protocol.h"
#include "parsers/candidate.h"

namespace tilskudd {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The highest UID accounted for under `uidvalidity`: 0 when the checkpoint is of another one.
std::uint32_t highest_under(const std::optional<Checkpoint>& cp, std::uint32_t uidvalidity) {
  return cp && cp->uidvalidity == uidvalidity ? cp->highest_uid : 0;
}

constexpr std::size_t kMetaBatch = 200;

// The search's candidates, with RFC822.SIZE and INTERNALDATE fetched for 200 at a time as they
// are handed out. `top` is the highest UID the listing before the search saw: everything up to it
// was searched, so the checkpoint may move there.
class ImapChanges : public MailChanges {
 public:
  ImapChanges(ImapClient& imap, std::string mailbox, std::uint32_t uidvalidity, std::uint32_t top,
              std::vector<std::uint32_t> uids)
      : imap_(imap),
        mailbox_(std::move(mailbox)),
        uidvalidity_(uidvalidity),
        top_(top),
        uids_(std::move(uids)) {}

  std::size_t size() const override { return uids_.size(); }

  std::optional<SourceMessage> next() override {
    if (pos_ >= uids_.size()) return std::nullopt;
    if (pos_ % kMetaBatch == 0) {
      const auto first = uids_.begin() + static_cast<std::ptrdiff_t>(pos_);
      const std::vector<std::uint32_t> batch(
          first, first + static_cast<std::ptrdiff_t>(std::min(kMetaBatch, uids_.size() - pos_)));
      metas_ = imap_.uid_fetch_meta(imap::format_uid_set(batch));
    }
    const std::uint32_t uid = uids_[pos_++];
    SourceMessage m;
    m.key = {uidvalidity_, uid};
    auto it =
        std::find_if(metas_.begin(), metas_.end(), [&](const auto& x) { return x.uid == uid; });
    if (it != metas_.end()) {
      m.size = it->size;
      m.received = internaldate_to_iso(it->internaldate);
    }
    return m;
  }

  Checkpoint after(const std::optional<Checkpoint>& current, const MessageKey& key) const override {
    return {mailbox_, key.uidvalidity, std::max(highest_under(current, key.uidvalidity), key.uid),
            ""};
  }

  std::optional<Checkpoint> end(const std::optional<Checkpoint>& current) const override {
    if (top_ > 0)
      return Checkpoint{mailbox_, uidvalidity_,
                        std::max(highest_under(current, uidvalidity_), top_), ""};
    if (!current || current->uidvalidity != uidvalidity_)
      return Checkpoint{mailbox_, uidvalidity_, 0, ""};
    return std::nullopt;
  }

 private:
  ImapClient& imap_;
  std::string mailbox_;
  std::uint32_t uidvalidity_;
  std::uint32_t top_;
  std::vector<std::uint32_t> uids_;
  std::size_t pos_ = 0;
  std::vector<MessageMeta> metas_;
};

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
  return search_criteria(first_uid, 0, case_number, "");
}

std::string imap_date(const std::string& iso_day) {
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(iso_day.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
      d > 31)
    return "";
  return std::to_string(d) + "-" + kMonths[m - 1] + "-" + std::to_string(y);
}

std::string search_criteria(std::uint32_t first_uid, std::uint32_t last_uid,
                            const std::string& case_number, const std::string& since) {
  // The serial part of "20/30298" is what every spelling shares ("20 / 30298", "2020/30298",
  // "sak 20/30298"); the parser then decides whether it really is the case number.
  std::string serial = case_number;
  if (auto slash = serial.rfind('/'); slash != std::string::npos) serial = serial.substr(slash + 1);
  while (!serial.empty() && serial.front() == ' ') serial.erase(serial.begin());
  // The config's case number is checked text; a value that cannot be quoted searches nothing.
  const std::string n = imap::quote(serial).value_or("\"\"");
  const std::string t = "\"tilretteleggingstilskudd\"";
  const std::string m = "\"tilretteleggingsmidler\"";
  const std::string last = last_uid == 0 ? "*" : std::to_string(last_uid);
  const std::string day = since.empty() ? "" : imap_date(since);
  return "UID " + std::to_string(first_uid) + ":" + last + (day.empty() ? "" : " SINCE " + day) +
         " OR (OR SUBJECT " + n + " BODY " + n +
         ") (HEADER Content-Type \"multipart/mixed\" OR (OR SUBJECT " + t + " SUBJECT " + m +
         ") (OR BODY " + t + " BODY " + m + "))";
}

ImapSource::ImapSource(ImapClient& imap, const config::Config& config, NoteSink notes,
                       bool read_only)
    : imap_(imap),
      config_(config),
      notes_(std::move(notes)),
      mailbox_(mailbox_from_url(config.mailbox.url)),
      read_only_(read_only) {}

void ImapSource::ensure_connected() {
  if (!imap_.connected()) {
    imap_.connect();
    selected_ = false;
    idle_supported_.reset();
    if (on_login_) on_login_();
  }
}

std::string folder_in_namespace(const std::string& move_to, const std::string& prefix) {
  if (prefix.empty() || move_to.rfind(prefix, 0) == 0) return move_to;
  std::string upper = move_to.substr(0, 6);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // INBOX is the same mailbox in every namespace; "INBOX.x" / "INBOX/x" already name a place.
  if (upper == "INBOX" ||
      (upper.size() == 6 && upper.rfind("INBOX", 0) == 0 && (upper[5] == '.' || upper[5] == '/')))
    return move_to;
  return prefix + move_to;
}

const std::string& ImapSource::move_folder() {
  if (!move_folder_) {
    const auto ns = imap_.personal_namespace();
    move_folder_ = folder_in_namespace(config_.mailbox.move_to, ns ? ns->prefix : "");
    if (*move_folder_ != config_.mailbox.move_to)
      notes_({"", false,
              "[mailbox] move_to \"" + config_.mailbox.move_to + "\" is " + *move_folder_ +
                  " in the server's personal namespace (NAMESPACE)"});
  }
  return *move_folder_;
}

bool keeps_keyword(const MailboxInfo& info, const std::string& keyword) {
  // RFC 3501 7.1: without PERMANENTFLAGS the client may assume every flag is kept.
  if (!info.permanent_flags_sent) return true;
  const auto& pf = info.permanent_flags;
  return std::find(pf.begin(), pf.end(), "\\*") != pf.end() ||
         std::find(pf.begin(), pf.end(), keyword) != pf.end();
}

MailboxInfo ImapSource::open_mailbox() {
  MailboxInfo info = read_only_ ? imap_.examine(mailbox_) : imap_.select(mailbox_);
  selected_ = true;
  uidvalidity_ = info.uidvalidity;
  keywords_allowed_ = keeps_keyword(info, config_.mailbox.keyword) &&
                      keeps_keyword(info, config_.mailbox.quarantine_keyword);
  if (!keywords_allowed_ && !read_only_ && !keyword_warned_) {
    keyword_warned_ = true;
    std::string pf;
    for (const auto& f : info.permanent_flags) pf += (pf.empty() ? "" : " ") + f;
    notes_({"", true,
            "the mailbox " + mailbox_ + " does not keep the keywords " + config_.mailbox.keyword +
                " and " + config_.mailbox.quarantine_keyword + " (PERMANENTFLAGS (" + pf +
                ")): processed and quarantined messages are tracked in the store only" +
                (config_.mailbox.move_to.empty()
                     ? "; set [mailbox] move_to so that processed ones leave the inbox, and "
                       "find quarantined ones with `tilskudd cases flagged`"
                     : "; processed ones are moved to " + config_.mailbox.move_to)});
  }
  return info;
}

bool ImapSource::changed_since(const std::optional<Checkpoint>& since) {
  ensure_connected();
  // The same two commands on every server (docs/DECISIONS.md "The IMAP wire"): NOOP brings the
  // selected mailbox's view up to date, then the UIDs above the checkpoint are listed, one line
  // each. No STATUS on the selected mailbox (RFC 3501 6.3.10; Office 365 repeats the SELECT's
  // answer) and no UIDNEXT (Courier sends none).
  if (!selected_) open_mailbox();
  imap_.noop();
  if (!since || since->uidvalidity != uidvalidity_) return true;
  return !imap_.uids_from(since->highest_uid + 1).empty();
}

Opened ImapSource::open(const std::optional<Checkpoint>& since) {
  ensure_connected();
  if (!selected_) open_mailbox();
  Opened out;
  if (since && since->uidvalidity != uidvalidity_) {
    // As mbsync does: the mailbox was recreated or restored; the old UIDs mean nothing.
    out.restart = Checkpoint{mailbox_, uidvalidity_, 0, ""};
    out.change = "UIDVALIDITY of " + mailbox_ + " changed from " +
                 std::to_string(since->uidvalidity) + " to " + std::to_string(uidvalidity_);
  }
  return out;
}

bool ImapSource::contains_message_id(const std::string& message_id) {
  auto quoted = imap::quote("<" + message_id + ">");
  if (!quoted) return false;  // 8-bit ids cannot be searched for
  return !imap_.uid_search("HEADER Message-ID " + *quoted).empty();
}

std::unique_ptr<MailChanges> ImapSource::changes(const std::optional<Checkpoint>& since) {
  const std::uint32_t first = highest_under(since, uidvalidity_) + 1;
  // What is there now, above the checkpoint; the search runs over that range only, in slices,
  // so that a first run on a mailbox with history is many short commands, not one that can
  // outlast the command timeout.
  const std::vector<std::uint32_t> listed = imap_.uids_from(first);
  std::vector<std::uint32_t> uids;
  for (std::size_t i = 0; i < listed.size(); i += kSearchSlice) {
    const std::uint32_t lo = listed[i];
    const std::uint32_t hi = listed[std::min(i + kSearchSlice, listed.size()) - 1];
    for (std::uint32_t u : imap_.uid_search(search_criteria(lo, hi, config_.case_.number, since_)))
      if (u >= lo && u <= hi) uids.push_back(u);
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  // The search is a hint: every listed UID it did not return is judged here from its header
  // fields and structure (parsers/candidate.h); nothing of its content is read or kept.
  std::vector<std::uint32_t> rest;
  std::set_difference(listed.begin(), listed.end(), uids.begin(), uids.end(),
                      std::back_inserter(rest));
  std::vector<std::uint32_t> found;
  for (std::size_t i = 0; i < rest.size(); i += kMetaBatch) {
    const std::vector<std::uint32_t> batch(
        rest.begin() + static_cast<std::ptrdiff_t>(i),
        rest.begin() + static_cast<std::ptrdiff_t>(std::min(i + kMetaBatch, rest.size())));
    for (const MessageOutline& o : imap_.uid_fetch_outline(imap::format_uid_set(batch))) {
      // [mailbox] since holds here too: the search's SINCE left the older ones out.
      const std::string day = internaldate_to_iso(o.internaldate).substr(0, 10);
      if (!since_.empty() && !day.empty() && day < since_) continue;
      const std::string why =
          may_be_ours(o.header_fields, o.structure.filenames, config_.case_.number);
      if (why.empty()) continue;
      found.push_back(o.uid);
      notes_({"", true,
              "message UID " + std::to_string(o.uid) +
                  " was not found by the server's search but " + why +
                  " says it may be ours: it is read all the same"});
    }
  }
  if (!found.empty()) {
    uids.insert(uids.end(), found.begin(), found.end());
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  }
  return std::make_unique<ImapChanges>(imap_, mailbox_, uidvalidity_,
                                       listed.empty() ? 0 : listed.back(), std::move(uids));
}

Fetched ImapSource::fetch(const SourceMessage& message, std::uint64_t max_bytes) {
  Fetched out;
  // Not fetched whole: its literal alone would break the IMAP client's limit, and every poll
  // would fail on it again.
  if (message.size && *message.size > max_bytes) {
    out.kind = Fetched::Kind::too_large;
    out.size = *message.size;
    return out;
  }
  auto raw = imap_.uid_fetch_body_peek(message.key.uid);
  if (!raw) {
    // OK without the body: expunged meanwhile, or (Exchange) not readable yet. Only a server
    // that no longer lists the UID has expunged it.
    if (lookup(message.key)) {
      out.kind = Fetched::Kind::unavailable;
      out.reason = "the server answered the FETCH of the body with no data";
    }
    return out;
  }
  if (is_exchange_stand_in(*raw)) {
    out.kind = Fetched::Kind::unavailable;
    out.reason = "the server handed over its stand-in text (\"" + std::string(kExchangeStandIn) +
                 "\") instead of the message";
    return out;
  }
  out.kind = Fetched::Kind::message;
  out.bytes = std::move(*raw);
  return out;
}

std::optional<SourceMessage> ImapSource::lookup(const MessageKey& key) {
  if (key.uidvalidity != uidvalidity_) return std::nullopt;  // that numbering is gone
  for (const MessageMeta& m : imap_.uid_fetch_meta(std::to_string(key.uid))) {
    if (m.uid != key.uid) continue;
    SourceMessage out;
    out.key = key;
    out.size = m.size;
    out.received = internaldate_to_iso(m.internaldate);
    return out;
  }
  return std::nullopt;
}

bool is_exchange_stand_in(std::string_view raw) {
  // Exchange's own short notice; a real message quoting the sentence is far longer than this.
  if (raw.size() > kExchangeStandInMaxBytes) return false;
  return raw.find(kExchangeStandIn) != std::string_view::npos;
}

std::optional<std::string> ImapSource::fetch_header(const SourceMessage& message) {
  return imap_.uid_fetch_header_peek(message.key.uid);
}

MarkResult ImapSource::mark(const MessageKey& key) {
  return store_keyword(key, false);
}

MarkResult ImapSource::quarantine(const MessageKey& key) {
  return store_keyword(key, true);
}

namespace {
bool connection_trouble(const ImapError& e) {
  using K = ImapError::Kind;
  return e.kind() == K::network || e.kind() == K::timeout || e.kind() == K::bye ||
         e.kind() == K::throttled || e.kind() == K::tls || e.kind() == K::auth;
}
}  // namespace

MarkResult ImapSource::store_keyword(const MessageKey& key, bool quarantine) {
  // That UID means nothing any more; the message is found again by its Message-ID.
  if (key.uidvalidity != uidvalidity_) return MarkResult::stale;
  // Shadow mode never writes to the mailbox.
  if (read_only_) return MarkResult::not_written;
  const std::string set = std::to_string(key.uid);
  const std::string& keyword =
      quarantine ? config_.mailbox.quarantine_keyword : config_.mailbox.keyword;
  bool written = false;
  if (keywords_allowed_) {
    try {
      imap_.uid_store_add_flags(set, keyword);
      written = true;
    } catch (const ImapError& e) {
      if (connection_trouble(e)) throw;
      keywords_allowed_ = false;
      notes_({"", true,
              "the mailbox refuses the keyword " + keyword + " (" + e.server_text() +
                  "); processed messages are tracked in the store only"});
    }
  }
  if (!quarantine && !config_.mailbox.move_to.empty()) {
    if (!move_folder_ready_ && !prepare_move_folder()) return MarkResult::failed;
    try {
      move(set);
      written = true;
    } catch (const ImapError& e) {
      if (connection_trouble(e)) throw;
      notes_({"", true,
              "could not move message UID " + set + " to " + move_folder() + ": " + e.what() +
                  "; tried again at the next poll"});
      return MarkResult::failed;
    }
  }
  return written ? MarkResult::marked : MarkResult::not_written;
}

bool ImapSource::prepare_move_folder() {
  const std::string& folder = move_folder();
  try {
    imap_.create(folder);
    move_folder_ready_ = true;
    return true;
  } catch (const ImapError& e) {
    if (connection_trouble(e)) throw;
    if (e.kind() != ImapError::Kind::no) throw;
    // RFC 5530's ALREADYEXISTS is the one NO that means "there already"; a server without the
    // codes is asked whether the folder is there (Cyrus answered "Permission denied", Courier
    // "Invalid mailbox name": those must not be taken as "it exists").
    if (e.code() == "ALREADYEXISTS") {
      move_folder_ready_ = true;
      return true;
    }
    try {
      imap_.status(folder);
      move_folder_ready_ = true;
      return true;
    } catch (const ImapError& s) {
      if (connection_trouble(s)) throw;
    }
    notes_({"", true,
            "cannot create the folder " + folder + " ([mailbox] move_to): " + e.server_text() +
                "; processed messages stay in " + mailbox_ +
                " until it exists (tried again at the next poll)"});
    return false;
  }
}

void ImapSource::move(const std::string& set) {
  const std::string& folder = move_folder();
  if (imap_.has_capability("MOVE")) {
    imap_.uid_move(set, folder);
    return;
  }
  // RFC 6851 3.3: without MOVE, COPY then \Deleted, and UID EXPUNGE of exactly these UIDs
  // (UIDPLUS). A plain EXPUNGE would remove every \Deleted message of other clients too, so
  // without UIDPLUS the message stays, marked \Deleted, until someone expunges the mailbox.
  imap_.uid_copy(set, folder);
  imap_.uid_store_add_flags(set, "\\Deleted");
  if (imap_.has_capability("UIDPLUS")) {
    imap_.uid_expunge(set);
  } else if (!expunge_warned_) {
    expunge_warned_ = true;
    notes_({"", true,
            "the server offers neither MOVE nor UIDPLUS: processed messages are copied to " +
                folder + " and left in " + mailbox_ + " marked \\Deleted"});
  }
}

WaitResult ImapSource::wait_for_change(std::chrono::milliseconds max_wait) {
  ensure_connected();
  if (!idle_supported_) {
    const auto caps = imap_.capability();
    idle_supported_ = std::find(caps.begin(), caps.end(), "IDLE") != caps.end();
  }
  if (!*idle_supported_) return WaitResult::unsupported;
  if (!selected_) open_mailbox();
  // Exchange stops pushing after a while without a word: never longer than kIdleReissue.
  return imap_.idle(std::min<std::chrono::milliseconds>(max_wait, kIdleReissue)).woke
             ? WaitResult::changed
             : WaitResult::timed_out;
}

}  // namespace tilskudd
