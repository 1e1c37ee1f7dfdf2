#include "workflow/assess.h"

#include <algorithm>
#include <array>
#include <unordered_set>

#include "parsers/autoreply.h"
#include "parsers/case_number.h"
#include "parsers/date.h"
#include "parsers/docx.h"
#include "parsers/forward.h"
#include "parsers/headers.h"
#include "parsers/html.h"
#include "parsers/text.h"
#include "workflow/controls.h"
#include "workflow/evidence.h"
#include "workflow/flags.h"
#include "workflow/sender_check.h"

namespace tilskudd {

namespace {

using nlohmann::json;

// Where an inline-forwarded message starts in a body (parsers/forward.h: Gmail, Thunderbird,
// Apple Mail and Outlook, in Norwegian and English), npos when none does.
size_t forward_marker(std::string_view body) {
  const forward::Inline f = forward::find_inline(body);
  return f.found ? f.marker : std::string::npos;
}

struct TextSource {
  std::string name;  // filename or "body"
  std::string content_type;
  std::string kind;  // "body", "txt", "html", "pdf", "docx", "forwarded", "image", "other"
  std::string text;
  std::string status = "ok";
  std::size_t size = 0;
  int part = -1;                    // index in msg.parts, -1 for body / forwarded
  std::vector<std::string> hidden;  // how an HTML attachment hid text (parsers/html.h)
};

std::string lower_ext(std::string_view filename) {
  auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return "";
  return text::to_lower(filename.substr(dot + 1));
}

bool is_pdf(const mime::Part& p) {
  return p.content_type == "application/pdf" || lower_ext(p.filename) == "pdf" ||
         (p.content_type == "application/octet-stream" && p.body.rfind("%PDF", 0) == 0);
}

bool is_docx(const mime::Part& p) {
  return lower_ext(p.filename) == "docx" ||
         p.content_type ==
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
}

// The text of every attachment that can hold a form or a letter, in document order.
std::vector<TextSource> attachment_texts(const mime::Message& msg, const config::Config& cfg,
                                         const AssessOptions& opt) {
  std::vector<TextSource> out;
  for (size_t i = 0; i < msg.parts.size(); ++i) {
    const auto& p = msg.parts[i];
    if (!p.is_attachment()) continue;
    TextSource s;
    s.name = p.filename;
    s.content_type = p.content_type;
    s.size = p.body.size();
    s.part = static_cast<int>(i);
    if (p.body.size() > cfg.limits.max_attachment_bytes) {
      s.kind = is_pdf(p) ? "pdf" : "other";
      s.status = "too_large";
    } else if (is_pdf(p)) {
      s.kind = "pdf";
      if (!opt.pdf) {
        s.status = "no_extractor";
      } else {
        PdfText t = opt.pdf(p.body);
        s.status = std::string(pdf_status_code(t.status));
        if (t.status == PdfStatus::ok) s.text = std::move(t.text);
      }
    } else if (is_docx(p)) {
      s.kind = "docx";
      DocxText t = extract_docx_text(p.body, cfg.limits.max_docx_uncompressed_bytes);
      if (t.ok) {
        s.text = std::move(t.text);
      } else {
        s.status = "broken";
      }
    } else if (p.content_type == "text/html" || lower_ext(p.filename) == "html" ||
               lower_ext(p.filename) == "htm") {
      s.kind = "html";
      HtmlText h = html_to_visible_text(p.body);
      s.text = std::move(h.text);
      s.hidden = std::move(h.hidden);
    } else if (p.is_text()) {
      s.kind = "txt";
      s.text = p.body;
    } else if (p.content_type.rfind("image/", 0) == 0) {
      // A photo or scan of a letter; inline images with a Content-ID are signature logos.
      if (p.disposition != "attachment" && !p.content_id.empty()) continue;
      s.kind = "image";
      s.status = "no_text";
    } else {
      s.kind = "other";
      s.status = "unsupported";
    }
    out.push_back(std::move(s));
  }
  return out;
}

void add_flag(std::vector<Flag>& flags, Flag f) {
  if (std::find(flags.begin(), flags.end(), f) == flags.end()) flags.push_back(std::move(f));
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// hidden_text (DECISIONS.md "Hidden text"): `where` had HTML text a reader does not see; it was
// left out of what was read. The reason names how it was hidden, never the text.
void flag_hidden(std::vector<Flag>& flags, const std::vector<std::string>& how,
                 const std::string& where) {
  if (how.empty()) return;
  add_flag(flags, make_flag(FlagCode::hidden_text,
                            join(how) + " in " + where +
                                ": that text was not read; a person must look at what was hidden"));
}

std::vector<std::string> employee_names(const Form& form) {
  // Each employee once: a name written twice in the form is one person in a letter.
  std::vector<std::string> names;
  std::unordered_set<std::string> keys;
  for (const auto& l : form.lines) {
    if (keys.insert(text::name_key(l.employee)).second) names.push_back(l.employee);
  }
  return names;
}

// The work limits one message reached (DECISIONS.md "Bounded work per message"), each key once.
class LimitHits {
 public:
  void add(const std::optional<LimitHit>& hit) {
    if (hit) add(*hit);
  }
  void add(const LimitHit& hit) {
    if (std::none_of(hits_.begin(), hits_.end(),
                     [&](const LimitHit& h) { return h.key == hit.key; }))
      hits_.push_back(hit);
  }
  bool has(std::string_view key) const {
    return std::any_of(hits_.begin(), hits_.end(), [&](const LimitHit& h) { return h.key == key; });
  }
  // limit_exceeded for each: "[limits] max_form_lines = 200: the form has more than 200 ...".
  void flag(std::vector<Flag>& flags) const {
    for (const auto& h : hits_) {
      std::string what = h.what;
      if (h.key == "message_cpu_seconds") {
        what = "the message took more than " + std::to_string(h.value) +
               " s of CPU time to read (" + what + ")";
      }
      add_flag(flags,
               make_flag(FlagCode::limit_exceeded,
                         "[limits] " + h.key + " = " + std::to_string(h.value) + ": " + what +
                             "; the message was not read in full and nothing in it is "
                             "decided automatically: a person must read it"));
    }
  }

 private:
  std::vector<LimitHit> hits_;
};

Letter unreadable_letter(const TextSource& s) {
  Letter l;
  l.filename = s.name;
  l.source = s.kind;
  l.readable = false;
  l.flags.push_back(make_flag(
      FlagCode::unreadable_letter,
      "letter '" + s.name + "' has no readable text (" + s.status + "); a person must read it"));
  return l;
}

}  // namespace

std::string own_address(const config::Config& config) {
  auto addrs = mime::parse_addresses(config.smtp.from);
  if (addrs.empty()) return "";
  return addrs.front().address;
}

Assessment assess(std::string_view raw, const config::Config& cfg, const AssessOptions& opt) {
  Assessment a;
  // Bounded work (DECISIONS.md "Bounded work per message"): one CPU budget for the whole
  // message, checked at the loop heads of the form reader, the letter reader and the evidence
  // matching; every limit reached becomes limit_exceeded, and the case waits for a person.
  Budget budget(opt.cpu_clock, std::int64_t{cfg.limits.message_cpu_seconds} * 1'000'000'000);
  const FormLimits form_limits{cfg.limits.max_form_lines, &budget};
  const LetterLimits letter_limits{cfg.limits.max_letter_text_bytes, &budget};
  LimitHits hits;
  mime::Message msg = mime::parse(raw, cfg.limits.mime);
  const auto& h = msg.headers;
  a.subject = h.subject;
  a.message_id = h.message_id;
  a.in_reply_to = h.in_reply_to;
  a.references = h.references;
  // Exactly one From mailbox is the sender; with several, none is (multiple_from).
  if (h.from.size() == 1) a.from_address = h.from.front().address;

  if (opt.received) {
    a.received = *opt.received;
    a.received_source = "option";
  } else if (auto d = parse_mail_date(h.date)) {
    a.received = *d;
    a.received_source = "header";
  } else {
    a.received = opt.today;
    a.received_source = "today";
  }

  if (!msg.defects.empty()) {
    std::string reason;
    for (const auto& d : msg.defects) {
      if (!reason.empty()) reason += "; ";
      reason += d;
    }
    add_flag(a.flags, make_flag(FlagCode::malformed_mime, reason));
  }

  // Machine-generated mail is never an application, whatever it quotes.
  if (auto why = machine_generated(msg, own_address(cfg))) {
    a.ignored_reason = *why;
    a.case_number_found = find_case_number(h.subject + "\n" + msg.text, cfg.case_.number).found;
    a.decision.status = rules::CaseStatus::ignored;
    a.flags.clear();
    return a;
  }

  // What a person sees is what is decided (DECISIONS.md "Hidden text", "Alternatives"): HTML
  // text a mail program would not show was left out by the parser and flags the case; a
  // text/plain and a text/html version of the body that give different forms flag it too, and
  // then the HTML version (what a mail program shows) is read.
  flag_hidden(a.flags, msg.hidden, "the HTML body");
  for (const auto& fwd : msg.forwarded) flag_hidden(a.flags, fwd.hidden, "a forwarded message");
  const std::string* body_text = &msg.text;
  if (msg.shown_text != msg.text) {
    auto own = [](const std::string& t) {
      return t.substr(0, std::min(t.size(), forward_marker(t)));
    };
    const Form plain = parse_form(own(msg.text), form_limits);
    const Form shown = parse_form(own(msg.shown_text), form_limits);
    hits.add(plain.limit);
    hits.add(shown.limit);
    std::vector<std::string> diff = form_differences(plain, shown);
    if (!diff.empty()) {
      add_flag(
          a.flags,
          make_flag(FlagCode::alternatives_disagree,
                    "the text/plain and the text/html version of the body give different "
                    "forms (" +
                        join(diff) + "); the HTML version, which a mail program shows, was read"));
      body_text = &msg.shown_text;
    }
  }

  // Split an inline-forwarded block off the body: the applicant's own text is above it.
  std::string own_text = *body_text;
  std::string forwarded_text;
  if (size_t pos = forward_marker(*body_text); pos != std::string::npos) {
    own_text = body_text->substr(0, pos);
    forwarded_text = body_text->substr(pos);
  }

  // Case number: subject, the applicant's text, then attachments (the number may stand only in
  // the attached form). Letters carry the state's own references and are not searched.
  CaseNumberScan subject_scan = find_case_number(h.subject, cfg.case_.number);
  CaseNumberScan body_scan = find_case_number(own_text, cfg.case_.number);
  std::vector<TextSource> sources = attachment_texts(msg, cfg, opt);

  a.case_number_found = subject_scan.found || body_scan.found || opt.case_form.has_value();
  std::vector<std::string> others = subject_scan.others;
  others.insert(others.end(), body_scan.others.begin(), body_scan.others.end());

  // The form: the body first, then each attachment that has text.
  std::vector<const TextSource*> form_candidates;
  TextSource body_source;
  body_source.name = "body";
  body_source.kind = "body";
  body_source.text = own_text;
  form_candidates.push_back(&body_source);
  for (const auto& s : sources) {
    if (s.status == "ok" && s.kind != "image" && s.kind != "other") form_candidates.push_back(&s);
  }
  const TextSource* form_from = nullptr;
  for (const TextSource* c : form_candidates) {
    Form f = parse_form(c->text, form_limits);
    hits.add(f.limit);
    if (!f.found) continue;
    if (!f.lines.empty()) {
      a.form = std::move(f);
      form_from = c;
      break;
    }
    if (!form_from) {
      a.form = std::move(f);
      form_from = c;
    }
  }
  if ((!form_from || a.form.lines.empty() || opt.keep_case_form) && opt.case_form) {
    a.form = *opt.case_form;
    a.form_source = "case";
    form_from = nullptr;
  }
  if (form_from) {
    a.form_source = form_from->name;
    if (form_from != &body_source) {
      CaseNumberScan s = find_case_number(form_from->text, cfg.case_.number);
      a.case_number_found = a.case_number_found || s.found;
      others.insert(others.end(), s.others.begin(), s.others.end());
    }
  }
  if (!a.case_number_found) {
    for (const auto& s : sources) {
      if (s.status == "ok" && find_case_number(s.text, cfg.case_.number).found) {
        a.case_number_found = true;
        break;
      }
    }
  }

  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  a.other_case_numbers = others;

  if (!a.case_number_found) {
    a.ignored_reason = "no_case_number";
    a.decision.status = rules::CaseStatus::ignored;
    a.flags.clear();
    return a;
  }

  // A form or letters carried from earlier messages of the case bring their limits along: what
  // was not read in full then is still not read in full.
  hits.add(a.form.limit);
  for (const auto& l : opt.case_letters) hits.add(l.limit);

  // Letters go to the sender, or to the form's contact when it is in the sender's domain.
  a.contact_email = sender::recipient(a.from_address, a.form.contact_email);

  // Letters: every attachment that is not the form, forwarded messages, an inline forward. Each
  // is checked as the state's letter (DECISIONS.md "What counts as the state's letter").
  std::vector<std::string> names = employee_names(a.form);
  const LetterParty applicant{a.form.owner, a.form.org_number};
  const Date letters_received = opt.message_received.value_or(a.received);
  // Room for one more letter under max_letters_per_message; past it the rest is not read, and
  // one unreadable letter stands for them (so that a later re-assessment of the case, which
  // carries the letters, still knows: intake's fold_case).
  const std::size_t max_letters = cfg.limits.max_letters_per_message;
  auto room = [&] {
    if (a.letters.size() < max_letters) return true;
    if (a.letters.size() == max_letters) {
      Letter rest;
      rest.filename = "(the letters after the first " + std::to_string(max_letters) + ")";
      rest.source = "not_read";
      rest.readable = false;
      rest.limit =
          LimitHit{"max_letters_per_message", static_cast<std::int64_t>(max_letters),
                   "the message has more than " + std::to_string(max_letters) + " letters"};
      hits.add(rest.limit);
      a.letters.push_back(std::move(rest));
    }
    return false;
  };
  auto add_letter = [&](Letter l, const rules::LetterOrigin& origin) {
    if (l.limit && !l.filename.empty()) l.limit->what += " ('" + l.filename + "')";
    hits.add(l.limit);
    if (!l.limit) rules::check_letter(l, origin, letters_received, a.form, cfg.evidence);
    a.letters.push_back(std::move(l));
  };
  const rules::LetterOrigin attached;
  for (const auto& s : sources) {
    flag_hidden(a.flags, s.hidden, "the HTML attachment '" + s.name + "'");
    AttachmentInfo info{s.name, s.content_type, s.size, "other", s.status};
    if (&s == form_from) {
      info.role = "form";
    } else if (s.status == "ok" && s.kind != "image" && [&] {
                 // Another copy of the form (the body's, as a PDF): it reads as the form, with
                 // its employee table, so it is no letter (DECISIONS.md "Form or letter").
                 Form copy = parse_form(s.text, form_limits);
                 hits.add(copy.limit);
                 return copy.found && !copy.lines.empty();
               }()) {
      info.role = "other";
    } else if (s.kind == "pdf" || s.kind == "image") {
      info.role = "letter";
      if (!room()) {
        info.text_status = "not_read";
      } else if (s.status == "ok") {
        Letter l = parse_letter(s.text, names, applicant, letter_limits);
        l.filename = s.name;
        l.source = s.kind;
        add_letter(std::move(l), attached);
      } else {
        a.letters.push_back(unreadable_letter(s));
      }
    } else if (s.status == "ok" && looks_like_letter(s.text, letter_limits)) {
      info.role = "letter";
      if (room()) {
        Letter l = parse_letter(s.text, names, applicant, letter_limits);
        l.filename = s.name;
        l.source = s.kind;
        add_letter(std::move(l), attached);
      } else {
        info.text_status = "not_read";
      }
    } else if (s.kind == "docx" && s.status != "ok") {
      info.role = "letter";
      if (room()) a.letters.push_back(unreadable_letter(s));
    }
    a.attachments.push_back(std::move(info));
  }
  for (const auto& fwd : msg.forwarded) {
    const std::string fwd_text = fwd.headers.subject + "\n" + fwd.text;
    if (!looks_like_letter(fwd_text, letter_limits)) continue;
    if (!room()) break;
    Letter l = parse_letter(fwd_text, names, applicant, letter_limits);
    l.filename = fwd.headers.subject;
    l.source = "forwarded";
    if (!l.date) l.date = parse_mail_date(fwd.headers.date);
    rules::LetterOrigin origin{rules::LetterChannel::forwarded, ""};
    if (fwd.headers.from.size() == 1) origin.original_sender = fwd.headers.from.front().address;
    add_letter(std::move(l), origin);
  }
  // An inline forward's letter: its text below the marker (quote marks removed), its original
  // sender the From/Fra line of its header block. Our own mail quoted in a reply is not one.
  const forward::Inline inline_fwd = forward::find_inline(forwarded_text);
  if (inline_fwd.found && looks_like_letter(inline_fwd.text, letter_limits) &&
      !(!inline_fwd.from_address.empty() &&
        text::iequals(inline_fwd.from_address, own_address(cfg))) &&
      room()) {
    Letter l = parse_letter(inline_fwd.text, names, applicant, letter_limits);
    l.source = "body";
    if (!l.date) l.date = inline_fwd.date_value;
    add_letter(std::move(l), {rules::LetterChannel::forwarded, inline_fwd.from_address});
  }

  if (opt.case_letters.empty()) {
    a.decision = rules::decide(a.form, a.letters, cfg.years, a.received, opt.prior, &budget);
  } else {
    std::vector<Letter> evidence = opt.case_letters;
    evidence.insert(evidence.end(), a.letters.begin(), a.letters.end());
    a.decision = rules::decide(a.form, evidence, cfg.years, a.received, opt.prior, &budget);
    for (const auto& l : opt.case_letters) {
      for (const auto& f : l.flags) add_flag(a.flags, f);
    }
  }

  if (!a.other_case_numbers.empty()) {
    std::string list;
    for (const auto& n : a.other_case_numbers) list += (list.empty() ? "" : ", ") + n;
    add_flag(a.decision.flags, make_flag(FlagCode::multiple_case_numbers,
                                         "the message also names case number(s) " + list +
                                             "; a person must decide which case it belongs to"));
  }
  if (!msg.defects.empty() && !a.form.found) {
    // Broken MIME that hid the form: the flag becomes the reason a person must look.
    a.decision.status = rules::CaseStatus::flagged;
  }
  {
    UniqueFlags all(a.flags);
    for (const auto& l : a.letters) {
      for (const auto& f : l.flags) all.add(f);
    }
    for (const auto& f : a.decision.flags) all.add(f);
  }
  // A stage that found the budget spent stopped there (the letters and the form report where;
  // the evidence matching does not).
  if (budget.was_spent() && !hits.has("message_cpu_seconds")) {
    hits.add(LimitHit{"message_cpu_seconds", cfg.limits.message_cpu_seconds,
                      "a stage of reading it stopped before the decision"});
  }
  hits.flag(a.flags);  // limit_exceeded blocks: the case is flagged below
  // Sender authenticity (DECISIONS.md "Sender authenticity"): a sender our receiving host could
  // not vouch for, or one outside the form's contact domain, holds the case for a person.
  const sender::Verdict verdict =
      sender::check(h, cfg.sender, a.from_address, a.form.contact_email);
  for (const auto& f : verdict.flags) add_flag(a.flags, f);
  a.sender_authenticated =
      verdict.auth_checked && std::none_of(verdict.flags.begin(), verdict.flags.end(), [](auto& f) {
        return is_flag(f, FlagCode::sender_unauthenticated) || is_flag(f, FlagCode::multiple_from);
      });
  // Controls on automatic money (workflow/controls.h), after every other check: the limits,
  // then the audit sample of what would still be decided automatically.
  for (const auto& f : controls::apply_limits(a.decision, cfg.controls)) add_flag(a.flags, f);
  if (any_blocking(a.flags)) a.decision.status = rules::CaseStatus::flagged;
  for (const auto& f : controls::apply_audit_sample(a.decision, a.form, cfg.controls)) {
    add_flag(a.flags, f);
  }
  return a;
}

json to_json(const Assessment& a) {
  json j;
  j["case_number_found"] = a.case_number_found;
  j["ignored_reason"] = a.ignored_reason ? json(*a.ignored_reason) : json(nullptr);
  j["message"] = {{"subject", a.subject},
                  {"message_id", a.message_id},
                  {"from", a.from_address},
                  {"received", a.received.iso()},
                  {"received_source", a.received_source}};
  j["other_case_numbers"] = a.other_case_numbers;

  if (a.ignored_reason) {
    j["application"] = nullptr;
    j["letters"] = json::array();
  } else {
    json app;
    app["form_found"] = a.form.found;
    app["form_source"] = a.form_source;
    app["owner"] = a.form.owner;
    app["org_number"] = a.form.org_number;
    app["kindergarten"] = a.form.kindergarten;
    app["contact"] = a.form.contact;
    app["contact_email"] = a.contact_email;
    app["account_number"] = a.form.account_number;
    app["reference"] = a.form.reference;
    json lines = json::array();
    for (const auto& l : a.form.lines) {
      lines.push_back({{"employee", l.employee},
                       {"programme", enum_name(l.programme)},
                       {"programme_text", l.programme_text},
                       {"study_place", l.study_place},
                       {"cost", l.cost ? json(*l.cost) : json(nullptr)},
                       {"state_status", enum_name(l.state_status)},
                       {"state_grant", l.state_grant ? json(*l.state_grant) : json(nullptr)}});
    }
    app["lines"] = lines;
    j["application"] = app;

    json letters = json::array();
    for (const auto& l : a.letters) {
      json entries = json::array();
      for (const auto& e : l.entries) {
        entries.push_back({{"employee", e.employee},
                           {"kind", enum_name(e.kind)},
                           {"amount", e.amount ? json(*e.amount) : json(nullptr)}});
      }
      letters.push_back({{"filename", l.filename},
                         {"source", l.source},
                         {"kind", enum_name(l.kind)},
                         {"amounts", l.amounts},
                         {"readable", l.readable},
                         {"sender", l.sender},
                         {"date", l.date ? json(l.date->iso()) : json(nullptr)},
                         {"reference", l.reference},
                         {"names_applicant", l.names_org_number || l.names_owner},
                         {"verified", l.verified()},
                         {"failed_checks", l.failed_checks},
                         {"entries", entries}});
    }
    j["letters"] = letters;
    json atts = json::array();
    for (const auto& at : a.attachments) {
      atts.push_back({{"filename", at.filename},
                      {"content_type", at.content_type},
                      {"size", at.size},
                      {"role", at.role},
                      {"text_status", at.text_status}});
    }
    j["attachments"] = atts;
  }

  const auto& d = a.decision;
  json dec;
  dec["status"] = enum_name(d.status);
  dec["round"] = d.round ? json(d.round->deadline.iso()) : json(nullptr);
  dec["total"] = d.total;
  json dlines = json::array();
  for (const auto& l : d.lines) {
    json flags = json::array();
    for (const auto& f : l.flags) flags.push_back(f.code);
    dlines.push_back({{"employee", l.employee},
                      {"outcome", enum_name(l.outcome)},
                      {"amount", l.amount},
                      {"reason", l.reason},
                      {"reason_code", l.reason_code},
                      {"flags", flags}});
  }
  dec["lines"] = dlines;
  dec["missing_documentation"] = d.missing_documentation;
  j["decision"] = dec;

  json flags = json::array();
  for (const auto& f : a.flags) flags.push_back({{"code", f.code}, {"reason", f.reason}});
  j["flags"] = flags;
  return j;
}

}  // namespace tilskudd
