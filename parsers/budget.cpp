#include "parsers/budget.h"

#include <time.h>

#include <utility>

namespace tilskudd {

std::int64_t thread_cpu_nanoseconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Budget::Budget(CpuClock clock, std::int64_t limit_ns)
    : clock_(std::move(clock)), limit_ns_(limit_ns) {
  if (clock_) start_ = clock_();
}

bool Budget::spent() {
  if (spent_) return true;
  if (!clock_) return false;
  spent_ = clock_() - start_ > limit_ns_;
  return spent_;
}

}  // namespace tilskudd
