// Norwegian money amounts as people write them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/types.h"

namespace tilskudd {

// Parses one amount cell: "95000", "95 000", "95.000", "kr 95 000,-", "95 000 kr", "NOK 95000",
// "kr. 60.000,-", "95 000,00", "95000.50" (øre rounded half-up). Returns nullopt for anything
// that is not exactly one amount ("avslag", "", "ca. 10-20 000", "2020/123").
std::optional<Kroner> parse_amount(std::string_view cell);

// Amounts in prose, in order: only numbers marked as money ("kr", "NOK", ",-", "kroner") or
// following "beløp", "tilskudd", "tildelt", "innvilget" and the like; never dates, case numbers,
// organisation numbers or years.
std::vector<Kroner> find_amounts(std::string_view text);

// Writing an amount, thousands grouped by a space. The one place money is formatted:
std::string group_digits(Kroner v);      // "55 000", "0", "-1 200" (in English flag reasons)
std::string format_kr_prefix(Kroner v);  // "kr 55 000", "kr -1 200" (letters, bokmål reasons)
std::string format_kr_suffix(Kroner v);  // "55 000 kr", "-1 200 kr" (the admin commands)

}  // namespace tilskudd
