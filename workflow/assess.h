// One message from bytes to a decision: recognise it, find the form and the letters, and apply
// the rules. Pure apart from the injected PDF extractor; `inspect` prints its result and the
// daemon stores it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "parsers/budget.h"
#include "parsers/form.h"
#include "parsers/letter.h"
#include "parsers/mime.h"
#include "parsers/pdf.h"
#include "parsers/types.h"
#include "workflow/rules.h"

namespace tilskudd {

struct AssessOptions {
  std::optional<Date> received;  // overrides the message's Date header
  // When this message itself arrived, when it is not `received` (a reply read into a case whose
  // round `received` fixes): the date the letters it carries are checked against.
  std::optional<Date> message_received;
  Date today;                // used when neither is known
  PdfExtractor pdf;          // empty: every PDF counts as unreadable
  rules::PriorGrants prior;  // amounts already granted this year under the cap
  // A message that belongs to a known case (a reply to our documentation request, a re-sent
  // application): the case's form stands in when the message has none of its own, the case
  // number is taken as given, and the case's letters so far count as evidence beside the
  // message's own (Assessment::letters holds only the message's own).
  std::optional<Form> case_form;
  std::vector<Letter> case_letters;
  // The case's form stands in even when the message has a form of its own: a reply whose form
  // would change the case (changed_by_reply) adds only its letters (DECISIONS.md "Who may
  // change a case").
  bool keep_case_form = false;
  // The clock [limits] message_cpu_seconds is measured on (DECISIONS.md "Bounded work per
  // message"): this thread's CPU time; tests give a fake. Empty: no CPU budget.
  CpuClock cpu_clock = thread_cpu_nanoseconds;
};

// What became of one attachment (or forwarded message).
struct AttachmentInfo {
  std::string filename;
  std::string content_type;
  std::size_t size = 0;     // decoded bytes
  std::string role;         // "form", "letter", "other"
  std::string text_status;  // "ok", or why its text could not be read ("no_text", "encrypted"...)
};

struct Assessment {
  // The message.
  std::string subject;
  std::string message_id;
  std::string from_address;
  // Our receiving host vouched for the From address (sender_check's verdict: the check is on
  // and raised no sender_unauthenticated). Who may change a case (intake) asks it.
  bool sender_authenticated = false;
  std::string in_reply_to;
  std::vector<std::string> references;
  Date received;
  std::string received_source;  // "option", "header" or "today"

  bool case_number_found = false;
  std::vector<std::string> other_case_numbers;
  std::optional<std::string> ignored_reason;  // auto_reply, bounce, own_message, no_case_number

  Form form;
  std::string form_source;    // "body", or the attachment's filename
  std::string contact_email;  // the form's, else the sender's
  std::vector<Letter> letters;
  std::vector<AttachmentInfo> attachments;

  rules::Decision decision;
  std::vector<Flag> flags;  // everything a person should know, each code+reason once
};

Assessment assess(std::string_view raw, const config::Config& config, const AssessOptions& options);

// docs/CONTRACT.md §4 JSON, with more fields than the contract names.
nlohmann::json to_json(const Assessment& a);

// Our own sending address from `[smtp] from` ("Asker kommune <post@x.no>" -> "post@x.no").
std::string own_address(const config::Config& config);

}  // namespace tilskudd
