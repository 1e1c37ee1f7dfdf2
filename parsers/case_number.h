// Finding the grant's case number (20/30298) in what people type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tilskudd {

struct CaseNumberScan {
  bool found = false;  // the configured number occurs (in any tolerated spelling)
  // Other case numbers written as case numbers ("sak 21/1234", "saksnr. 19/555"), normalised
  // "NN/NNNNN", excluding the configured one. Used to flag mail that names several cases.
  std::vector<std::string> others;
};

// Looks for `configured` ("20/30298") in `text`: "20/30298", "20 / 30298", "sak 20/30298",
// "saksnr. 20/30298", "saksnummer: 20/30298", "2020/30298" (the year written in full).
// Digits must not continue on either side ("120/302981" is no match).
CaseNumberScan find_case_number(std::string_view text, std::string_view configured);

}  // namespace tilskudd
