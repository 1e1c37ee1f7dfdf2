// PDF text extraction in a child process (poppler's pdftotext) under a timeout and rlimits, so
// a hostile or broken PDF cannot crash or hang the process that handles the mailbox, and
// confined (daemon/confinement.h, docs/CONFINEMENT.md), so that one which takes over pdftotext
// reaches no secret, no store, no network and no other program.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/confinement.h"
#include "parsers/pdf.h"

namespace tilskudd {

// How far the extractor must be confined (docs/CONFINEMENT.md).
enum class DocumentConfinement {
  required,     // no_new_privs, Landlock and seccomp; without them a document is broken
  best_effort,  // the layers the kernel offers ([limits] allow_unconfined_documents = true)
};

// What the daemon does about document confinement at start, given what the kernel offers and
// [limits] allow_unconfined_documents (docs/CONFINEMENT.md "When the kernel lacks a layer").
struct ConfinementDecision {
  enum class Level { ok, warn, refuse };
  Level level = Level::ok;
  DocumentConfinement mode = DocumentConfinement::required;
  std::string message;  // one line for the log and `config check`
};
ConfinementDecision decide_document_confinement(const confinement::Support& support,
                                                bool allow_unconfined);

// Runs `pdftotext -q -enc UTF-8 -layout -l <max_pages> - -` on the bytes, confined
// (document_confinement below). Safe to call from any thread of a multi-threaded process; never
// raises SIGPIPE; always reaps the child.
PdfText extract_pdf_text_sandboxed(std::string_view pdf_bytes, const PdfLimits& limits = {},
                                   DocumentConfinement mode = DocumentConfinement::required);

// The same with an explicit pdftotext path ("" or a missing file: status broken,
// "pdftotext not installed").
PdfText extract_pdf_text_with(const std::string& pdftotext_path, std::string_view pdf_bytes,
                              const PdfLimits& limits = {},
                              DocumentConfinement mode = DocumentConfinement::required);

// The confinement every extractor child gets: confinement::document_policy(program) with the
// rlimits of `limits` (address space, CPU, file size 0, no core, 64 descriptors). nullptr with
// `error` set when a required layer is missing.
std::unique_ptr<confinement::Confinement> document_confinement(const std::string& program,
                                                               const PdfLimits& limits,
                                                               DocumentConfinement mode,
                                                               std::string& error);

// pdftotext's path: the first executable `pdftotext` on PATH, else /usr/bin/pdftotext when it
// exists, else "".
std::string find_pdftotext();

// The sandbox itself: runs `argv` (argv[0] is the program's absolute path) with `input` on its
// stdin and its stdout as the text, under `limits` (timeout, output cap, rlimits). No input
// checks (size, %PDF header) are done here. Exit status 0 -> ok / no_text; 3, or 1 with
// "password" in stderr -> encrypted; killed by the timeout or SIGXCPU -> timeout; output over
// max_text_bytes -> too_large; anything else -> broken. Exposed for tests (fake extractors).
// With `confine` null the child gets only the rlimits and closed descriptors (the tests'
// unconfined baseline); otherwise `confine` execs its own program (argv[0] is only the name).
PdfText run_pdf_extractor(const std::vector<std::string>& argv, std::string_view input,
                          const PdfLimits& limits,
                          const confinement::Confinement* confine = nullptr);

// pdftotext with one process started ahead: each document still gets a fresh pdftotext of its
// own (the same program, flags, rlimits, timeout and exit mapping as extract_pdf_text_with, so
// a hostile PDF costs only its own document), but the next one is forked, exec'd and has loaded
// its libraries while the caller is busy with the current message. The spare waits on its stdin
// and costs no CPU; the destructor kills and reaps it. When the spare has died or cannot be
// started, the document starts its own process (the one-shot path). Thread-safe: one document
// at a time. Every process is confined as extract_pdf_text_with's (the confinement is prepared
// once, here).
class PdfExtractorPool {
 public:
  explicit PdfExtractorPool(PdfLimits limits = {}, std::string pdftotext_path = find_pdftotext(),
                            DocumentConfinement mode = DocumentConfinement::required);
  ~PdfExtractorPool();
  PdfExtractorPool(const PdfExtractorPool&) = delete;
  PdfExtractorPool& operator=(const PdfExtractorPool&) = delete;

  PdfText extract(std::string_view pdf_bytes);

  struct Counters {
    int started = 0;         // pdftotext processes started (spares and one-shots)
    int from_spare = 0;      // documents handed to a spare that was already running
    int spares_lost = 0;     // spares found dead when needed
    int spawn_failures = 0;  // spares that could not be started
  };
  Counters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tilskudd
