#include "daemon/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "daemon/systemd.h"

namespace tilskudd::log {

namespace {

thread_local Context tls_context;

// The syslog priority of a level, as journald and the "<N>" stream prefix want it.
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    case spdlog::level::critical:
      return 2;
    default:
      return 6;
  }
}

// Journal entries over the native protocol, with the thread's log context as fields. The
// sink runs on the logging thread (the logger is synchronous), so the thread-local context is
// the caller's. When the socket refuses an entry, the line goes to stderr with its "<N>"
// priority prefix.
class JournalSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalSink(std::string socket_path) : writer_(std::move(socket_path)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const int priority = syslog_priority(msg.level);
    std::string text(msg.payload.data(), msg.payload.size());
    systemd::JournalFields fields;
    fields.reserve(6);
    fields.emplace_back("MESSAGE", text);
    fields.emplace_back("PRIORITY", std::to_string(priority));
    fields.emplace_back("SYSLOG_IDENTIFIER", "tilskudd");
    const Context& c = tls_context;
    if (!c.case_ref.empty()) fields.emplace_back("CASE_REF", c.case_ref);
    if (!c.message_id.empty()) fields.emplace_back("MAIL_MESSAGE_ID", c.message_id);
    if (!c.mailbox_uid.empty()) fields.emplace_back("MAILBOX_UID", c.mailbox_uid);
    if (writer_.send(fields)) return;
    std::string line = "<" + std::to_string(priority) + ">" + text + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override {}

 private:
  systemd::JournalWriter writer_;
};

}  // namespace

void setup(const std::string& level) {
  setup(level, systemd::kJournalSocket);
}

void setup(const std::string& level, const std::string& journal_socket) {
  std::shared_ptr<spdlog::logger> logger;
  if (systemd::under_journald()) {
    logger =
        std::make_shared<spdlog::logger>("tilskudd", std::make_shared<JournalSink>(journal_socket));
  } else {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>("tilskudd", sink);
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S %-5l %v"));
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

ScopedContext::ScopedContext(Context c) : saved_(tls_context) {
  if (!c.case_ref.empty()) tls_context.case_ref = std::move(c.case_ref);
  if (!c.message_id.empty()) tls_context.message_id = std::move(c.message_id);
  if (!c.mailbox_uid.empty()) tls_context.mailbox_uid = std::move(c.mailbox_uid);
}

ScopedContext::~ScopedContext() {
  tls_context = std::move(saved_);
}

const Context& current_context() {
  return tls_context;
}

void note(const IntakeNote& n) {
  ScopedContext scope(Context{n.case_ref, "", ""});
  const std::string prefix = n.case_ref.empty() ? std::string() : "[" + n.case_ref + "] ";
  if (n.warn)
    spdlog::warn("{}{}", prefix, n.text);
  else
    spdlog::info("{}{}", prefix, n.text);
}

}  // namespace tilskudd::log
