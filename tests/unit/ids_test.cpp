#include "parsers/ids.h"

#include <gtest/gtest.h>

#include <string>

namespace tilskudd {
namespace {

TEST(DigitsOnly, KeepsAsciiDigits) {
  EXPECT_EQ(digits_only("987 654 325"), "987654325");
  EXPECT_EQ(digits_only("1234.56.78903"), "12345678903");
  EXPECT_EQ(digits_only("NO 987 654 325 MVA"), "987654325");
  EXPECT_EQ(digits_only(""), "");
}

// Check digits computed by hand: 9*3+8*2+7*7+6*6+5*5+4*4+3*3+2*2 = 182, 182 % 11 = 6, 11-6 = 5.
TEST(OrgNumber, ContractExampleIsValid) {
  EXPECT_TRUE(valid_org_number("987654325"));
}

TEST(OrgNumber, RealNumbers) {
  EXPECT_TRUE(valid_org_number("974760673"));  // Brønnøysundregistrene
  EXPECT_TRUE(valid_org_number("923456783"));
}

TEST(OrgNumber, RemainderZeroGivesCheckDigitZero) {
  // 9*3+9*2+8*7+8*6+7*5+7*4+6*3+6*2 = 242 = 22*11.
  EXPECT_TRUE(valid_org_number("998877660"));
  EXPECT_FALSE(valid_org_number("998877661"));
}

TEST(OrgNumber, RemainderOneIsNeverValid) {
  // 9*3+1*2+2*7+3*6+4*5+5*4+6*3+7*2 = 133, 133 % 11 = 1: no check digit can make it valid.
  for (char c = '0'; c <= '9'; ++c) EXPECT_FALSE(valid_org_number(std::string("91234567") + c));
}

TEST(OrgNumber, WrongCheckDigitLengthOrCharacters) {
  EXPECT_FALSE(valid_org_number("987654321"));  // docs/CONTRACT.md §4's example: check digit wrong
  EXPECT_FALSE(valid_org_number("98765432"));
  EXPECT_FALSE(valid_org_number("9876543250"));
  EXPECT_FALSE(valid_org_number("987 654 325"));
  EXPECT_FALSE(valid_org_number("98765432a"));
  EXPECT_FALSE(valid_org_number(""));
}

TEST(AccountNumber, ContractExampleIsValid) {
  // 1*5+2*4+3*3+4*2+5*7+6*6+7*5+8*4+9*3+0*2 = 195, 195 % 11 = 8, 11-8 = 3.
  EXPECT_TRUE(valid_account_number("12345678903"));
}

TEST(AccountNumber, RemainderZeroAndOne) {
  // 1*5+5*4+0*3+3*2+1*7+2*6+3*5+4*4+5*3+6*2 = 108, 108 % 11 = 9 -> check 2.
  EXPECT_TRUE(valid_account_number("15031234562"));
  EXPECT_FALSE(valid_account_number("15031234563"));
  // 8*5+6*4+0*3+1*2+1*7+1*6+1*5+7*4+9*3+4*2 = 147, 147 % 11 = 4 -> check 7.
  EXPECT_TRUE(valid_account_number("86011117947"));
  // 1*5 + 3*2 = 11: remainder 0 -> check digit 0.
  EXPECT_TRUE(valid_account_number("10000000030"));
  EXPECT_FALSE(valid_account_number("10000000031"));
  // 6*2 = 12: remainder 1 -> no valid check digit.
  for (char c = '0'; c <= '9'; ++c)
    EXPECT_FALSE(valid_account_number(std::string("0000000006") + c));
}

TEST(AccountNumber, LengthAndCharacters) {
  EXPECT_FALSE(valid_account_number("1234567890"));
  EXPECT_FALSE(valid_account_number("123456789031"));
  EXPECT_FALSE(valid_account_number("1234 56 78903"));
  EXPECT_FALSE(valid_account_number("1234567890x"));
}

}  // namespace
}  // namespace tilskudd
