// Plain value types shared by the parsers, the rules and the workflow.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tilskudd {

// Money in whole Norwegian kroner. Øre are rounded half-up by the amount parser.
using Kroner = std::int64_t;

// A calendar date (no time, no zone). Deadlines, received dates, letter dates.
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;

  auto operator<=>(const Date&) const = default;
  bool valid() const;
  std::string iso() const;  // "2020-09-01"
  static std::optional<Date> from_iso(std::string_view s);
};

// Something a person should know about a case, a line or a letter: a short stable code
// (`amount_mismatch`, `not_on_roster`, ...) and an English explanation for logs and JSON. The
// codes are workflow/flags.h's registry; code builds a Flag with make_flag(FlagCode::..., why).
struct Flag {
  std::string code;
  std::string reason;
  bool operator==(const Flag&) const = default;
};

}  // namespace tilskudd
