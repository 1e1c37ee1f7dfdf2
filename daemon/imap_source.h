// The mailbox over IMAP (daemon/mail_source.h): today's ImapClient, the server's search for what
// may be ours, and the keywords and `move_to` for processed and quarantined messages.
//
// The checkpoint is (UIDVALIDITY, the highest UID accounted for). The idle poll costs one NOOP
// and one `UID FETCH n:* (UID)` above the checkpoint, whatever the mailbox holds; only when that
// lists a new UID (or the poller has marks or retries waiting) is the range searched. A message is
// fetched with BODY.PEEK[] (its \Seen is never touched), only when the search names it and its
// RFC822.SIZE is within the bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "daemon/imap_client.h"
#include "daemon/mail_source.h"
#include "workflow/intake.h"

namespace tilskudd {

// The folder named by the mailbox URL's path ("imaps://host/INBOX" -> "INBOX"), percent-decoded;
// "INBOX" when the path is empty.
std::string mailbox_from_url(const std::string& url);

// "24-Nov-2026 11:36:40 +0100" -> "2026-11-24T11:36:40+01:00"; "" when unparseable.
std::string internaldate_to_iso(const std::string& internaldate);

// The UID SEARCH criteria for "may be ours" after `first_uid`: the case number (in any spelling
// a substring search can see) in subject or text, or the grant's name in subject or text of a
// message with attachments (multipart/mixed).
std::string search_criteria(std::uint32_t first_uid, const std::string& case_number);
// The same over UIDs first..last (last 0: "*"), and only mail that arrived on or after `since`
// ("YYYY-MM-DD", "" = any day).
std::string search_criteria(std::uint32_t first_uid, std::uint32_t last_uid,
                            const std::string& case_number, const std::string& since);
// "2026-03-01" -> "1-Mar-2026" (IMAP's date); "" when unparseable.
std::string imap_date(const std::string& iso_day);

// The folder `move_to` names at a server whose personal namespace has `prefix` (RFC 2342): a name
// already under the prefix, or INBOX itself or below it, stays; any other gets the prefix, as a
// mail program would put it ("Behandlet" at Cyrus: "INBOX.Behandlet").
std::string folder_in_namespace(const std::string& move_to, const std::string& prefix);

// Whether the selected mailbox keeps `keyword` (PERMANENTFLAGS with it or \*, or none sent).
bool keeps_keyword(const MailboxInfo& info, const std::string& keyword);

// The search runs over this many listed UIDs per command.
inline constexpr std::size_t kSearchSlice = 2000;
// IDLE is ended and issued again at least this often.
inline constexpr std::chrono::minutes kIdleReissue{10};

// Exchange Online hands over this notice instead of a message it cannot give out yet (Safe
// Attachments' dynamic delivery, a message still being scanned): the UID is pending, not read.
inline constexpr std::string_view kExchangeStandIn =
    "Retrieval using the IMAP4 protocol failed for the following message";
inline constexpr std::size_t kExchangeStandInMaxBytes = 8192;
bool is_exchange_stand_in(std::string_view raw);

class ImapSource : public MailSource {
 public:
  // `read_only` (shadow mode, `run --dry-run`, and the IDLE connection): EXAMINE instead of
  // SELECT, and the mailbox is never marked or moved. `notes` hears what the server refused
  // (a keyword, a move). The client and the config must outlive the source.
  ImapSource(ImapClient& imap, const config::Config& config, NoteSink notes,
             bool read_only = false);

  const std::string& mailbox() const override { return mailbox_; }
  bool changed_since(const std::optional<Checkpoint>& since) override;
  Opened open(const std::optional<Checkpoint>& since) override;
  bool contains_message_id(const std::string& message_id) override;
  std::unique_ptr<MailChanges> changes(const std::optional<Checkpoint>& since) override;
  Fetched fetch(const SourceMessage& message, std::uint64_t max_bytes) override;
  std::optional<std::string> fetch_header(const SourceMessage& message) override;
  std::optional<SourceMessage> lookup(const MessageKey& key) override;
  void set_arrived_since(const std::string& day) override { since_ = day; }
  MarkResult mark(const MessageKey& key) override;
  MarkResult quarantine(const MessageKey& key) override;
  // IDLE on this connection (connects, checks the IDLE capability, opens the mailbox).
  WaitResult wait_for_change(std::chrono::milliseconds max_wait) override;
  void interrupt() override { imap_.interrupt(); }

  // Called after every successful login.
  void on_login(std::function<void()> fn) { on_login_ = std::move(fn); }

 private:
  void ensure_connected();
  MailboxInfo open_mailbox();
  MarkResult store_keyword(const MessageKey& key, bool quarantine);
  // CREATE of move_to; false (with a note) when the server refuses and it is not there.
  bool prepare_move_folder();
  // UID MOVE, or COPY + \Deleted + UID EXPUNGE where the server has no MOVE.
  void move(const std::string& set);

  ImapClient& imap_;
  const config::Config& config_;
  NoteSink notes_;
  std::string mailbox_;
  bool read_only_ = false;
  std::function<void()> on_login_;
  // Per connection.
  bool selected_ = false;
  bool keywords_allowed_ = true;
  std::optional<bool> idle_supported_;
  // Once per source: CREATE of move_to is tried before its first MOVE.
  bool move_folder_ready_ = false;
  // move_to as the server names it (folder_in_namespace), once per source.
  std::optional<std::string> move_folder_;
  const std::string& move_folder();
  // What the last SELECT saw.
  std::uint32_t uidvalidity_ = 0;
  // [mailbox] since, or the day before the first start (the poller sets it).
  std::string since_;
  // Said once per source, not at every poll.
  bool keyword_warned_ = false;
  bool expunge_warned_ = false;
};

}  // namespace tilskudd
