#include "daemon/service.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include "config/config.h"
#include "daemon/connections.h"
#include "daemon/imap_client.h"
#include "daemon/imap_source.h"
#include "daemon/install_paths.h"
#include "daemon/log.h"
#include "daemon/oauth2.h"
#include "daemon/pdf_sandbox.h"
#include "daemon/poller.h"
#include "daemon/private_files.h"
#include "daemon/smtp_sender.h"
#include "daemon/systemd.h"
#include "workflow/intake.h"
#include "workflow/outbox.h"
#include "workflow/outgoing.h"
#include "workflow/store.h"

namespace tilskudd {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

Timestamp wall_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Everything that depends on the config file, rebuilt on SIGHUP and then never changed: the
// threads share it as a shared_ptr<const Setup> (service.h says who holds which). Its last
// holder destroys it, and with it the PDF pool's pdftotext started ahead (killed and reaped).
struct Setup {
  config::Config config;
  std::shared_ptr<oauth2::TokenSource> tokens;  // shared by IMAP, IDLE and SMTP
  ImapOptions imap;
  SmtpOptions smtp;
  IntakeSettings intake;
  OutboxPolicy outbox;
};

std::unique_ptr<Setup> make_setup(const std::string& path) {
  auto s = std::make_unique<Setup>();
  s->config = config::load(path);
  config::validate_for_daemon(s->config);
  const config::Config& c = s->config;

  Connections connections = make_connections(c);
  s->tokens = std::move(connections.tokens);
  s->imap = std::move(connections.imap);
  s->smtp = std::move(connections.smtp);

  try {
    s->intake.templates = outgoing::load_templates(letter_templates_dir(c));
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string("[letters] templates: ") + e.what());
  }
  s->intake.config = &s->config;
  // Documents are read only by a confined child (docs/CONFINEMENT.md): without Landlock or
  // seccomp we do not start, unless the operator opted out; then a warning at every start.
  const ConfinementDecision confine =
      decide_document_confinement(confinement::probe(), c.limits.allow_unconfined_documents);
  if (confine.level == ConfinementDecision::Level::refuse)
    throw config::ConfigError(confine.message);
  if (confine.level == ConfinementDecision::Level::warn) spdlog::warn("{}", confine.message);
  // One pdftotext per document, the next one started ahead (DECISIONS.md "Backlog throughput").
  auto pdf_pool = std::make_shared<PdfExtractorPool>(c.limits.pdf, find_pdftotext(), confine.mode);
  s->intake.pdf = [pdf_pool](std::string_view bytes) { return pdf_pool->extract(bytes); };
  s->outbox.max_attempts = c.smtp.max_attempts;
  s->outbox.base_delay = std::chrono::seconds(c.smtp.retry_seconds);
  s->outbox.max_per_recipient_per_day = c.smtp.max_per_recipient_per_day;
  auto rng = std::make_shared<std::mt19937>(std::random_device{}());
  s->outbox.jitter = [rng] { return std::uniform_real_distribution<double>(0, 1)(*rng); };
  return s;
}

std::string envelope_address(const config::Config& c) {
  return own_address(c);
}

SendAttempt send_with(SmtpSession& session, const std::string& from, const OutboxItem& item,
                      const std::function<void()>& data_complete) {
  SmtpResult r = session.send(from, item.recipient, item.body, data_complete);
  SendAttempt a;
  a.detail = r.detail;
  a.data_handed_over = r.data_handed_over;
  a.outcome = r.outcome;
  return a;
}

// Only one daemon works a store: an exclusive lock on "<store>.lock", held for the process's
// life (released by the kernel when it dies, also after SIGKILL).
class StoreLock {
 public:
  explicit StoreLock(const std::string& store_path) {
    path_ = store_path + ".lock";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw StoreError("cannot open lock file " + path_);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      held_elsewhere_ = true;
    }
  }
  ~StoreLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held_elsewhere() const { return held_elsewhere_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool held_elsewhere_ = false;
};

struct CycleResult {
  bool imap_ok = true;
  // The server asked us to wait (ImapError::Kind::throttled): at least this before the next
  // cycle, whatever the backoff says.
  std::chrono::milliseconds throttle{0};
  bool halted = false;  // the mailbox needs a person (UIDVALIDITY not re-approved)
  // What failed, for STATUS= (empty: nothing). The store failing (disk full, read-only, I/O
  // errors) backs off like the mailbox being unreachable: nothing is lost, since every message
  // and every send step is committed or rolled back whole.
  std::string fault;
  PollStats stats;
  OutboxRun outbox;
};

// One cycle: poll, reminders, outbox. Errors are logged here; the result says what failed.
// Used by one thread at a time (the worker thread, or `run --once`).
class Worker {
 public:
  Worker(std::shared_ptr<const Setup> setup, Store& store, const std::atomic<bool>& stop,
         bool dry_run, std::function<void()> progress = {})
      : setup_(std::move(setup)),
        store_(store),
        stop_(stop),
        dry_run_(dry_run),
        progress_(std::move(progress)) {
    rebuild();
  }

  const std::shared_ptr<const Setup>& setup() const { return setup_; }

  // At shutdown: LOGOUT on the mailbox connection, as a client that ends its session should.
  void close() { imap_->logout(); }

  // The next cycles use `setup`. The mailbox connection is closed (the new one logs in with the
  // new settings), and the old setup is let go: destroyed here unless another thread still holds
  // it, which takes its pdftotext started ahead with it.
  void replace_setup(std::shared_ptr<const Setup> setup) {
    imap_->logout();
    std::shared_ptr<const Setup> old = std::exchange(setup_, std::move(setup));
    rebuild();  // the poller and client built on `old` go before `old` does
  }

  CycleResult cycle() {
    CycleResult r;
    if (progress_) progress_();
    try {
      r.stats = poller_->poll(wall_now, stop_);
      if (!r.stats.idle) {
        spdlog::info(
            "poll of {}: {} candidate(s), {} fetched, {} new case(s), {} merged, {} duplicate(s), "
            "{} ignored, {} failed, {} quarantined, {} pending (listed without a body)",
            poller_->mailbox(), r.stats.candidates, r.stats.fetched, r.stats.new_cases,
            r.stats.merged, r.stats.duplicates, r.stats.ignored, r.stats.failed,
            r.stats.quarantined, r.stats.pending);
      } else {
        spdlog::debug("poll of {}: nothing new", poller_->mailbox());
      }
    } catch (const ImapError& e) {
      r.imap_ok = false;
      if (e.kind() == ImapError::Kind::throttled) {
        // The session is fine; the server wants a pause. Keep the connection, wait as told.
        r.throttle = e.retry_after();
        r.fault = "mailbox server throttling";
        spdlog::warn("IMAP {}: {}; waiting {} s as the server asks", poller_->mailbox(), e.what(),
                     r.throttle.count() / 1000);
      } else {
        r.fault = "mailbox unreachable";
        spdlog::warn("IMAP {}: {} ({})", poller_->mailbox(), e.what(), to_string(e.kind()));
        imap_->logout();
      }
    } catch (const MailboxChanged& e) {
      r.imap_ok = false;
      r.halted = true;
      r.fault = "mailbox halted: UIDVALIDITY changed, a person must check the mailbox";
      spdlog::error("mailbox halted: {}", e.what());
      imap_->logout();
    } catch (const StoreError& e) {
      r.imap_ok = false;
      r.fault = std::string("store failing: ") + e.what();
      spdlog::error("store: {} (the poll is retried)", e.what());
    }
    if (stop_.load()) return r;
    try {
      for (const auto& n : queue_due_reminders(store_, setup_->intake, wall_now())) log::note(n);
    } catch (const StoreError& e) {
      if (r.fault.empty()) r.fault = std::string("store failing: ") + e.what();
      spdlog::error("store: {} (reminders are retried)", e.what());
    }
    try {
      const std::string from = envelope_address(setup_->config);
      // One SMTP connection for the whole run (QUIT when it ends), not one per mail.
      SmtpSession smtp(setup_->smtp);
      SendFn send = [&](const OutboxItem& item, const std::function<void()>& data_complete) {
        return send_with(smtp, from, item, data_complete);
      };
      if (dry_run_) {
        send = [&](const OutboxItem& item, const std::function<void()>&) {
          auto c = store_.cases().find_case(item.case_id);
          log::note({c ? c->ref : "", false,
                     "dry run: would send the " + std::string(enum_name(item.kind)) +
                         (c && item.kind == OutboxKind::decision
                              ? " (total " + std::to_string(c->total) + " kr)"
                              : std::string())});
          return SendAttempt{SendOutcome::accepted, "dry run", false};
        };
      }
      r.outbox = run_outbox(
          store_, send, setup_->outbox, wall_now, [&] { return stop_.load(); }, 100, &unrecorded_);
      for (const auto& n : r.outbox.notes) log::note(n);
    } catch (const StoreError& e) {
      if (r.fault.empty()) r.fault = std::string("store failing: ") + e.what();
      spdlog::error("store: {} (the outbox is retried)", e.what());
    }
    try {
      summarise_flagged(wall_now());
    } catch (const StoreError& e) {
      spdlog::error("store: {}", e.what());
    }
    return r;
  }

  // Every flagged case gets one WARN line a day until a person resolves it, so nothing waits
  // unseen. The first summary comes with the first cycle.
  void summarise_flagged(Timestamp now) {
    if (last_summary_ && now - *last_summary_ < std::chrono::hours(24)) return;
    last_summary_ = now;
    daily_housekeeping(now);
    auto flagged = store_.cases().list_cases(CaseState::flagged);
    if (flagged.empty()) return;
    spdlog::warn("{} case(s) wait for a person: `tilskudd cases flagged` lists them",
                 flagged.size());
    for (const CaseRecord& c : flagged) {
      std::string codes;
      for (const Flag& f : c.flags) {
        if (codes.find(f.code) == std::string::npos) codes += (codes.empty() ? "" : ", ") + f.code;
      }
      log::note({c.ref, true,
                 "still flagged since " + c.updated_at.substr(0, 10) + " (" +
                     (codes.empty() ? std::string("see the case") : codes) + ")"});
    }
  }

 private:
  // Once a day: the event log's hash chain is checked and its head logged (an anchor outside
  // the store, so that removing the newest events shows too), and the retention rule applied.
  void daily_housekeeping(Timestamp now) {
    EventChainCheck chain = store_.events().verify_events();
    if (chain.ok) {
      spdlog::info("event log intact: {} event(s) verified, head #{} {}", chain.checked,
                   chain.head_id, chain.head_hash);
    } else {
      spdlog::error("event log tampered with: {} (event #{}); a person must investigate",
                    chain.problem, chain.first_bad_id);
    }
    if (setup_->tokens) {
      if (auto w = setup_->tokens->expiry_warning()) spdlog::warn("OAuth2: {}", *w);
    }
    const int days = setup_->config.retention.raw_message_days;
    if (days > 0 && !dry_run_) {
      int n = store_.cases().forget_old_bytes(now - std::chrono::days(days),
                                              "raw messages deleted after " + std::to_string(days) +
                                                  " days ([retention] raw_message_days)",
                                              now);
      if (n > 0) spdlog::info("retention: raw messages of {} case(s) deleted", n);
    }
  }

  void rebuild() {
    imap_ = std::make_unique<ImapClient>(setup_->imap);
    NoteSink notes = [this](const IntakeNote& n) {
      log::note(n);
      if (progress_) progress_();
    };
    source_ = std::make_unique<ImapSource>(*imap_, setup_->config, notes, dry_run_);
    poller_ = std::make_unique<Poller>(setup_->config, store_, setup_->intake, *source_, notes);
    // READY=1 after the first successful login (an unreachable mailbox at start keeps the unit
    // "activating", with STATUS= saying why); a long first backlog does not delay it.
    source_->on_login([] {
      static std::atomic<bool> sent{false};
      if (!sent.exchange(true)) systemd::ready();
    });
  }

  std::shared_ptr<const Setup> setup_;
  Store& store_;
  const std::atomic<bool>& stop_;
  bool dry_run_ = false;
  std::function<void()> progress_;  // called whenever work moves on (the watchdog's heartbeat)
  std::optional<Timestamp> last_summary_;
  // Sends the mail server answered but the store could not record yet (run_outbox).
  UnrecordedSends unrecorded_;
  std::unique_ptr<ImapClient> imap_;
  std::unique_ptr<ImapSource> source_;
  std::unique_ptr<Poller> poller_;
};

// What the IDLE connection depends on: when a reload changes any of it, the connection logs in
// again with the new settings. The first field says whether IDLE is on at all.
auto idle_settings(const Setup& s) {
  const config::OAuth2& t = s.config.oauth2;
  const bool oauth2 = s.config.mailbox.oauth2;
  auto token_source = std::tuple(t.token_url, t.client_id, t.client_secret_file, t.scope,
                                 t.refresh_token_file, t.cache_file, t.ca_file, t.allow_insecure);
  if (!oauth2) token_source = {};
  return std::tuple(s.config.mailbox.idle, s.imap.url, s.imap.username, s.imap.password,
                    s.imap.bearer_token, s.imap.ca_file, s.imap.allow_insecure, oauth2,
                    token_source);
}
using IdleSettings = decltype(idle_settings(std::declval<const Setup&>()));

// The daemon's threads (service.h describes them and who owns what).
class Service {
 public:
  Service(std::string config_path, std::shared_ptr<const Setup> setup, Store& store, bool dry_run)
      : config_path_(std::move(config_path)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        poll_timer_(io_),
        worker_(setup, store, stop_, dry_run, [this] { heartbeat(); }),
        setup_(std::move(setup)) {}

  int run() {
    watch_signals();
    heartbeat();
    worker_thread_ = std::thread([this] { work(); });
    idle_thread_ = std::thread([this] { idle_loop(); });
    request_cycle();
    if (watchdog_) watchdog_tick();
    io_.run();
    stop_threads();
    if (worker_thread_.joinable()) worker_thread_.join();
    if (idle_thread_.joinable()) idle_thread_.join();
    spdlog::info("stopped");
    return 0;
  }

 private:
  // Any thread: sets stop_ and wakes the worker and the IDLE thread. stop_ is set before the
  // lock is taken, so a thread that checks it under mu_ after this sees it, and one that checked
  // before gets its IDLE interrupted here.
  void stop_threads() {
    stop_.store(true);
    std::lock_guard lk(mu_);
    cv_.notify_all();
    if (idle_client_) idle_client_->interrupt();
  }

  // ---- on the event loop -------------------------------------------------------------------

  void watch_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
        watch_signals();
        return;
      }
      spdlog::info("{} received: finishing the message in hand, then stopping",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      systemd::stopping();
      systemd::status("stopping: finishing the message in hand");
      poll_timer_.cancel();
      stop_threads();
      // The loop ends when the worker reports its last cycle done (worker_finished).
    });
  }

  // Publishes the new setup: the worker takes it at its next cycle (one is asked for now), the
  // IDLE thread at once (its IDLE is interrupted, and it logs in again if its settings changed).
  void reload() {
    systemd::reloading();
    try {
      std::shared_ptr<const Setup> fresh = make_setup(config_path_);
      std::shared_ptr<const Setup> replaced;  // destroyed after the lock is released
      {
        std::lock_guard lk(mu_);
        replaced = std::exchange(setup_, std::move(fresh));
        ++setup_generation_;
        cycle_requested_ = true;
        cv_.notify_all();
        if (idle_client_) idle_client_->interrupt();
      }
      spdlog::info("SIGHUP: config {} reloaded; it applies from the next cycle", config_path_);
      systemd::status("config reloaded");
    } catch (const std::exception& e) {
      spdlog::error("SIGHUP: config not reloaded, the old one stays: {}", e.what());
      systemd::status(std::string("config reload failed, the old config is in use: ") + e.what());
    }
    systemd::ready();
  }

  // WATCHDOG=1 from the loop, but only while the worker shows signs of life: a worker stuck for
  // longer than any network or PDF timeout allows stops the pings, and systemd restarts us.
  void watchdog_tick() {
    const auto since = std::chrono::steady_clock::now() -
                       std::chrono::steady_clock::time_point(
                           std::chrono::steady_clock::duration(last_progress_.load()));
    if (since < 10min) systemd::watchdog();
    watchdog_timer_.expires_after(
        std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_) / 3);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) watchdog_tick();
    });
  }

  void heartbeat() {
    last_progress_.store(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  void request_cycle() {
    std::lock_guard lk(mu_);
    cycle_requested_ = true;
    cv_.notify_all();
  }

  void schedule(std::chrono::milliseconds delay) {
    poll_timer_.expires_after(delay);
    poll_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stop_.load()) request_cycle();
    });
  }

  // ---- the worker thread -------------------------------------------------------------------

  void work() {
    int failures = 0;
    std::mt19937 rng(std::random_device{}());
    while (true) {
      std::shared_ptr<const Setup> latest;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stop_.load() || cycle_requested_; });
        if (stop_.load()) break;
        cycle_requested_ = false;
        latest = setup_;
      }
      // A reload since the last cycle: the old setup goes here (with its pdftotext).
      if (latest != worker_.setup()) worker_.replace_setup(std::move(latest));
      CycleResult r = worker_.cycle();
      heartbeat();
      if (stop_.load()) break;

      const auto interval =
          std::chrono::seconds(worker_.setup()->config.mailbox.poll_interval_seconds);
      std::chrono::milliseconds delay = interval;
      if (!r.fault.empty()) {
        // Exponential backoff, capped at 15 minutes, with jitter; never shorter than 1 s.
        ++failures;
        auto base = std::min<std::chrono::milliseconds>(
            15min, std::chrono::milliseconds(1000) * (1LL << std::min(failures, 10)));
        auto jitter = std::uniform_int_distribution<long long>(0, base.count() / 2)(rng);
        delay = std::min<std::chrono::milliseconds>(
            std::max<std::chrono::milliseconds>(base, std::chrono::milliseconds(1000)) +
                std::chrono::milliseconds(jitter),
            std::max<std::chrono::milliseconds>(interval, 15min));
        delay = std::max(delay, r.throttle);
        spdlog::warn("next attempt in {} s (failure {} in a row)", delay.count() / 1000, failures);
        systemd::status(r.halted ? r.fault
                                 : r.fault + " (" + std::to_string(failures) +
                                       " failures in a row); next attempt in " +
                                       std::to_string(delay.count() / 1000) + " s");
      } else {
        failures = 0;
        systemd::status(
            "last poll " + iso_utc(wall_now()) + ": " + std::to_string(r.stats.new_cases) +
            " new case(s), " + std::to_string(r.stats.merged) + " merged, " +
            std::to_string(r.stats.failed) + " failed; " + std::to_string(r.outbox.sent) +
            " mail(s) sent; next poll in " + std::to_string(delay.count() / 1000) + " s");
      }
      asio::post(io_, [this, delay] { schedule(delay); });
    }
    worker_.close();  // LOGOUT: the session ends as the server expects
    asio::post(io_, [this] { io_.stop(); });
  }

  // ---- the IDLE thread ---------------------------------------------------------------------

  // Makes `client` (or none) the one stop_threads() and reload() interrupt. Returns false when
  // the daemon is stopping. A reload published since `generation` interrupts the new client at
  // once, so that its first idle() returns and the settings are looked at again.
  bool publish_idle_client(ImapClient* client, std::uint64_t generation) {
    std::lock_guard lk(mu_);
    idle_client_ = client;
    if (client && setup_generation_ != generation) client->interrupt();
    return !stop_.load();
  }

  // Waits until the daemon stops, a reload is published after `generation`, or `timeout`.
  void wait_for_reload(std::uint64_t generation, std::chrono::seconds timeout) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [&] { return stop_.load() || setup_generation_ != generation; });
  }

  // The IDLE connection: read-only (EXAMINE), asks the loop for a cycle when new mail arrives.
  // It holds no Setup (the PDF pool is in there): at each (re)connect it copies what it needs
  // from the newest one. A reload interrupts its IDLE; it logs in again when the settings it
  // depends on (IdleSettings) changed, and otherwise goes back to IDLE on the same connection.
  void idle_loop() {
    std::unique_ptr<ImapClient> client;
    IdleSettings settings;         // those `client` was built from
    std::uint64_t generation = 0;  // the newest setup looked at
    std::string mailbox;
    int failures = 0;
    auto disconnect = [&] {
      publish_idle_client(nullptr, generation);
      if (client) client->logout();
      client.reset();
    };
    while (true) {
      std::shared_ptr<const Setup> latest;
      std::uint64_t latest_generation = 0;
      {
        std::lock_guard lk(mu_);
        if (stop_.load()) break;
        latest = setup_;
        latest_generation = setup_generation_;
        // Every interrupt so far was for a reload (seen now) or the stop (seen above).
        if (client) client->clear_interrupt();
      }
      const bool reloaded = latest_generation != generation;
      generation = latest_generation;
      if (client && reloaded && idle_settings(*latest) != settings) {
        spdlog::info("IDLE: the mailbox settings changed; reconnecting with the new ones");
        disconnect();
      }
      try {
        if (!client) {
          settings = idle_settings(*latest);
          if (!std::get<0>(settings)) {  // IDLE is off
            latest.reset();
            wait_for_reload(generation, std::chrono::hours(24 * 365));
            continue;
          }
          const int interval = latest->config.mailbox.poll_interval_seconds;
          mailbox = mailbox_from_url(latest->config.mailbox.url);
          client = std::make_unique<ImapClient>(latest->imap);
          latest.reset();
          if (!publish_idle_client(client.get(), generation)) break;
          client->connect();
          auto caps = client->capability();
          if (std::find(caps.begin(), caps.end(), "IDLE") == caps.end()) {
            spdlog::info("the IMAP server offers no IDLE; polling every {} s", interval);
            disconnect();
            wait_for_reload(generation, std::chrono::hours(24 * 365));
            continue;
          }
          client->examine(mailbox);  // read-only: IDLE must never change anything
          spdlog::debug("IDLE connection ready on {}", mailbox);
        }
        latest.reset();
        failures = 0;
        // Re-issued every 10 minutes: Exchange stops pushing after a while without a BYE.
        IdleResult r = client->idle(kIdleReissue);
        if (stop_.load()) break;
        if (r.woke) {
          spdlog::debug("IDLE: new mail in {}", mailbox);
          asio::post(io_, [this] {
            poll_timer_.cancel();
            request_cycle();
          });
        }
      } catch (const ImapError& e) {
        if (stop_.load()) break;
        ++failures;
        spdlog::warn("IMAP IDLE connection: {} ({}); reconnecting", e.what(), to_string(e.kind()));
        disconnect();
        wait_for_reload(generation,
                        std::chrono::seconds(std::min(300, 1 << std::min(failures, 8))));
      }
    }
    disconnect();
  }

  // Set before the threads start, then constant.
  const std::string config_path_;

  // The event loop's (the main thread's).
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer poll_timer_;
  asio::steady_timer watchdog_timer_{io_};
  std::optional<std::chrono::microseconds> watchdog_ = systemd::watchdog_interval();
  std::thread worker_thread_;
  std::thread idle_thread_;

  // Any thread.
  std::atomic<bool> stop_{false};
  std::atomic<std::chrono::steady_clock::rep> last_progress_{0};

  // The worker thread's (built here before it starts): the store, the mailbox connection and
  // the setup of the cycle in hand.
  Worker worker_;

  // State below is protected by mu_. cv_ is signalled when any of it changes, and on stop.
  std::mutex mu_;
  std::condition_variable cv_;
  // The newest setup: published by the loop on SIGHUP, taken by the worker at each cycle and
  // by the IDLE thread at each reconnect. Each publication counts one generation.
  std::shared_ptr<const Setup> setup_;
  std::uint64_t setup_generation_ = 0;
  bool cycle_requested_ = false;
  // The IDLE thread's client (owned there), so that reload() and stop_threads() can interrupt
  // its IDLE; only interrupt() is called on it from other threads.
  ImapClient* idle_client_ = nullptr;
};

}  // namespace

int run_daemon(const RunArgs& args) {
  log::setup(args.log_level);
  std::unique_ptr<Setup> setup;
  try {
    setup = make_setup(args.config_path);
  } catch (const config::ConfigError& e) {
    spdlog::error("config error: {}", e.what());
    return 2;
  }
  config::Config& cfg = setup->config;
  if (args.dry_run) {
    cfg.store.path = args.scratch_store.empty() ? cfg.store.path + ".dry-run" : args.scratch_store;
    spdlog::info(
        "dry run: the mailbox is only read, nothing is sent, cases go to the scratch store {}",
        cfg.store.path);
  }
  std::error_code ec;
  auto parent = std::filesystem::path(cfg.store.path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);  // 0700: main() set umask 077
  }
  {
    const private_files::StoreCheck check = private_files::secure_store(cfg.store.path);
    if (!check.refusal.empty()) {
      spdlog::error("store {}: {}; not starting", cfg.store.path, check.refusal);
      return 1;
    }
    for (const auto& w : check.warnings) spdlog::warn("store {}: {}", cfg.store.path, w);
    for (const auto& t : check.tightened)
      spdlog::warn("store: {} was readable by other users; made private (0600)", t);
  }

  std::optional<StoreLock> lock;
  std::optional<Store> store;
  try {
    lock.emplace(cfg.store.path);
    if (lock->held_elsewhere()) {
      spdlog::error("another tilskudd daemon is working on {} (lock {}); exiting", cfg.store.path,
                    lock->path());
      return 3;
    }
    store.emplace(Store::open(cfg.store.path));
    if (int n = store->outbox().recover_outbox(); n > 0) {
      spdlog::warn(
          "{} outgoing mail(s) were being sent when the daemon stopped: those interrupted "
          "before the data was complete go out again; any interrupted after it are marked "
          "uncertain and not resent (`tilskudd cases show` lists them)",
          n);
    }
  } catch (const StoreError& e) {
    spdlog::error("store {}: {}", cfg.store.path, e.what());
    return 1;
  }
  spdlog::info("tilskudd starting: mailbox {} as {}, store {}", mailbox_from_url(cfg.mailbox.url),
               cfg.mailbox.username, cfg.store.path);
  if (cfg.sender.fails_closed()) {
    spdlog::warn(
        "sender authenticity cannot be checked ([sender] authserv_ids is empty), so nothing is "
        "decided automatically: every case waits for a person (sender_unverified); name our "
        "receiving host there (docs/DECISIONS.md \"Sender authenticity\")");
  } else if (!cfg.sender.checks_authentication()) {
    spdlog::warn(
        "sender authenticity is not checked ([sender] require_authentication = false): only the "
        "contact-domain rule stands between a forged From and a decision; never use this for "
        "the real mailbox (docs/DECISIONS.md \"Sender authenticity\")");
  }

  if (args.once) {
    std::atomic<bool> stop{false};
    Worker worker(std::move(setup), *store, stop, args.dry_run);
    CycleResult r = worker.cycle();
    return r.imap_ok ? 0 : 1;
  }
  Service service(args.config_path, std::move(setup), *store, args.dry_run);
  return service.run();
}

}  // namespace tilskudd
