// Norwegian identifiers: organisation numbers and bank account numbers (mod-11 check digits).
#pragma once

#include <string>
#include <string_view>

namespace tilskudd {

// Keeps the ASCII digits of `s` ("987 654 325" -> "987654325").
std::string digits_only(std::string_view s);

// 9 digits, mod-11 with weights 3 2 7 6 5 4 3 2 (Brønnøysundregistrene).
bool valid_org_number(std::string_view digits);

// 11 digits, mod-11 with weights 5 4 3 2 7 6 5 4 3 2.
bool valid_account_number(std::string_view digits);

}  // namespace tilskudd
