// Dates as they appear in forms, letters and headers.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "parsers/types.h"

namespace tilskudd {

// "2020-09-01", "01.09.2020", "1.9.2020", "01.09.20", "1. september 2020", "1 sep. 2020".
std::optional<Date> parse_date(std::string_view s);

// RFC 5322 Date header ("Tue, 1 Sep 2020 10:00:00 +0200"): the date in the sender's zone.
std::optional<Date> parse_mail_date(std::string_view s);

// Every date in prose, in order.
std::vector<Date> find_dates(std::string_view text);

}  // namespace tilskudd
