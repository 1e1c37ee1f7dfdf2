// Bounded work per message (DECISIONS.md "Bounded work per message"): a CPU budget the expensive
// stages check at their loop heads, and the report of a limit a parser stopped at. Pure: the
// clock is given (daemon and `inspect` pass thread_cpu_nanoseconds; tests a fake).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tilskudd {

// CPU time in nanoseconds, from any fixed origin.
using CpuClock = std::function<std::int64_t()>;

// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID): what this message's work has cost,
// whatever else the process does.
std::int64_t thread_cpu_nanoseconds();

class Budget {
 public:
  Budget() = default;  // unlimited: never spent
  // `limit_ns` of CPU from now, as `clock` tells it.
  Budget(CpuClock clock, std::int64_t limit_ns);

  // Whether the budget is spent (reads the clock). Once spent it stays spent: every stage after
  // the one that spent it stops at its first check.
  bool spent();
  bool was_spent() const { return spent_; }
  std::int64_t limit_ns() const { return limit_ns_; }

 private:
  CpuClock clock_;
  std::int64_t start_ = 0;
  std::int64_t limit_ns_ = 0;
  bool spent_ = false;
};

// A work limit a parser stopped at, for the workflow to turn into limit_exceeded. `key` is the
// [limits] key ("max_form_lines"), `value` its value, `what` what the input had ("the form has
// more than 200 employee lines").
struct LimitHit {
  std::string key;
  std::int64_t value = 0;
  std::string what;
};

}  // namespace tilskudd
