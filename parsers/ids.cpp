#include "parsers/ids.h"

#include <array>
#include <cstddef>

namespace tilskudd {

namespace {

// Mod-11 check digit over `digits` (all but the last) with `weights`, as both
// Brønnøysundregistrene and the banks define it: remainder 0 gives check digit 0, remainder 1
// gives no valid check digit (such numbers are never issued), otherwise 11 - remainder.
template <size_t N>
bool mod11_ok(std::string_view digits, const std::array<int, N>& weights) {
  if (digits.size() != N + 1) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  int sum = 0;
  for (size_t i = 0; i < N; ++i) sum += (digits[i] - '0') * weights[i];
  int rem = sum % 11;
  if (rem == 1) return false;
  int check = rem == 0 ? 0 : 11 - rem;
  return check == digits[N] - '0';
}

}  // namespace

std::string digits_only(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c >= '0' && c <= '9') out += c;
  return out;
}

bool valid_org_number(std::string_view digits) {
  static constexpr std::array<int, 8> kWeights = {3, 2, 7, 6, 5, 4, 3, 2};
  return mod11_ok(digits, kWeights);
}

bool valid_account_number(std::string_view digits) {
  static constexpr std::array<int, 10> kWeights = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
  return mod11_ok(digits, kWeights);
}

}  // namespace tilskudd
