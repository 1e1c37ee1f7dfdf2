// Evidence (DECISIONS.md "Evidence: letters against the form's state column"): which letter
// settles which line, and the contradictions with the form.
#include "workflow/evidence.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tilskudd::rules {
namespace {

FormLine line(std::string name, StateStatus st, std::optional<Kroner> grant = std::nullopt) {
  FormLine l;
  l.employee = std::move(name);
  l.programme = Programme::ABLU;
  l.programme_text = "ABLU";
  l.cost = 95000;
  l.state_status = st;
  l.state_grant = grant;
  return l;
}

Form form(std::vector<FormLine> lines) {
  Form f;
  f.found = true;
  f.lines = std::move(lines);
  return f;
}

Letter letter(LetterKind kind, std::vector<Kroner> amounts = {},
              std::vector<LetterEntry> entries = {}, std::string file = "brev.pdf") {
  Letter l;
  l.filename = std::move(file);
  l.source = "pdf";
  l.kind = kind;
  l.amounts = std::move(amounts);
  l.entries = std::move(entries);
  return l;
}

Letter unreadable(std::string file = "scan.pdf") {
  Letter l;
  l.filename = std::move(file);
  l.source = "pdf";
  l.readable = false;
  return l;
}

bool has(const LineEvidence& e, std::string_view code) {
  return std::any_of(e.flags.begin(), e.flags.end(), [&](const Flag& f) { return f.code == code; });
}

const auto G = StateStatus::granted;
const auto R = StateStatus::rejected;
const auto U = StateStatus::unknown;

// --- One line -------------------------------------------------------------------------------

TEST(Evidence_OneLine, GrantLetterConfirmsTheClaim) {
  auto ev =
      match_evidence(form({line("Ola Hansen", G, 40000)}), {letter(LetterKind::grant, {40000})});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, G);
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_EQ(ev[0].letter, 0);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_FALSE(ev[0].unreadable_letter);
}

TEST(Evidence_OneLine, AmountMismatch) {
  auto ev =
      match_evidence(form({line("Ola Hansen", G, 40000)}), {letter(LetterKind::grant, {35000})});
  EXPECT_TRUE(has(ev[0], "amount_mismatch"));
  EXPECT_EQ(ev[0].grant, 35000);
}

TEST(Evidence_OneLine, FormGrantedLetterRejectsIsStateStatusMismatch) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}), {letter(LetterKind::rejection)});
  EXPECT_TRUE(has(ev[0], "state_status_mismatch"));
}

TEST(Evidence_OneLine, FormInnvilgetWithoutAmountAndRejectionIsStateStatusMismatch) {
  auto ev = match_evidence(form({line("Ola Hansen", G)}), {letter(LetterKind::rejection)});
  EXPECT_TRUE(has(ev[0], "state_status_mismatch"));
}

TEST(Evidence_OneLine, FormAvslagLetterGrantsIsStateStatusMismatch) {
  auto ev = match_evidence(form({line("Ola Hansen", R)}), {letter(LetterKind::grant, {40000})});
  EXPECT_TRUE(has(ev[0], "state_status_mismatch"));
}

TEST(Evidence_OneLine, RejectionConfirmsAvslag) {
  auto ev = match_evidence(form({line("Ola Hansen", R)}), {letter(LetterKind::rejection)});
  EXPECT_EQ(ev[0].status, R);
  EXPECT_FALSE(ev[0].grant);
  EXPECT_TRUE(ev[0].flags.empty());
}

TEST(Evidence_OneLine, FormInnvilgetWithoutAmountTakesTheLettersAmount) {
  auto ev = match_evidence(form({line("Ola Hansen", G)}), {letter(LetterKind::grant, {30000})});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_EQ(ev[0].grant, 30000);
  EXPECT_TRUE(ev[0].flags.empty());
}

TEST(Evidence_OneLine, EmptyColumnIsDecidedByTheLetterWithoutFlag) {
  auto ev = match_evidence(form({line("Ola Hansen", U)}), {letter(LetterKind::grant, {30000})});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_EQ(ev[0].grant, 30000);
  EXPECT_TRUE(ev[0].flags.empty());
  auto ev2 = match_evidence(form({line("Ola Hansen", U)}), {letter(LetterKind::rejection)});
  EXPECT_EQ(ev2[0].status, R);
  EXPECT_TRUE(ev2[0].flags.empty());
}

TEST(Evidence_OneLine, GrantLetterWithoutAmountIsAmountUnconfirmed) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}), {letter(LetterKind::grant)});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_FALSE(ev[0].grant);
  EXPECT_TRUE(has(ev[0], "amount_unconfirmed"));
}

TEST(Evidence_OneLine, SeveralAmountsConfirmWhenTheClaimIsOneOfThemOrTheirSum) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}),
                           {letter(LetterKind::grant, {20000, 20000})});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_TRUE(ev[0].flags.empty());
  auto ev2 = match_evidence(form({line("Ola Hansen", G, 25000)}),
                            {letter(LetterKind::grant, {25000, 15000})});
  EXPECT_EQ(ev2[0].grant, 25000);
  auto ev3 = match_evidence(form({line("Ola Hansen", G, 10000)}),
                            {letter(LetterKind::grant, {25000, 15000})});
  EXPECT_TRUE(has(ev3[0], "amount_mismatch"));
  auto ev4 =
      match_evidence(form({line("Ola Hansen", U)}), {letter(LetterKind::grant, {25000, 15000})});
  EXPECT_TRUE(has(ev4[0], "amount_unconfirmed"));
}

TEST(Evidence_OneLine, ReceiptSettlesNothing) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}), {letter(LetterKind::unknown)});
  EXPECT_EQ(ev[0].status, U);
  EXPECT_EQ(ev[0].letter, -1);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_FALSE(ev[0].unreadable_letter);
}

TEST(Evidence_OneLine, NoLetters) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}), {});
  EXPECT_EQ(ev[0].status, U);
  EXPECT_FALSE(ev[0].unreadable_letter);
}

TEST(Evidence_OneLine, GrantAndRejectionNamingNobodyDisagree) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}),
                           {letter(LetterKind::grant, {40000}), letter(LetterKind::rejection)});
  EXPECT_TRUE(has(ev[0], "state_status_mismatch"));
}

// --- Unreadable letters ---------------------------------------------------------------------

TEST(Evidence_Unreadable, MarksEveryUnsettledLine) {
  auto ev =
      match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}), {unreadable()});
  EXPECT_TRUE(ev[0].unreadable_letter);
  EXPECT_TRUE(ev[1].unreadable_letter);
  EXPECT_EQ(ev[0].status, U);
}

TEST(Evidence_Unreadable, NotOnLinesSettledByAReadableLetter) {
  Letter named = letter(LetterKind::rejection, {}, {{"Per Olsen", LetterKind::rejection, {}}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}),
                           {unreadable(), named});
  EXPECT_TRUE(ev[0].unreadable_letter);
  EXPECT_FALSE(ev[1].unreadable_letter);
  EXPECT_EQ(ev[1].status, R);
}

TEST(Evidence_Unreadable, ReadableLetterSettlingEverythingLeavesNoMark) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}),
                           {unreadable(), letter(LetterKind::grant, {40000})});
  EXPECT_FALSE(ev[0].unreadable_letter);
  EXPECT_EQ(ev[0].letter, 1);
}

// --- Letters that name employees ------------------------------------------------------------

TEST(Evidence_Named, LetterAppliesOnlyToTheNamedLine) {
  Letter l = letter(LetterKind::grant, {40000}, {{"Ola Hansen", LetterKind::grant, 40000}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}), {l});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_EQ(ev[1].status, U);
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_Named, NamesCompareByNameKey) {
  Letter l = letter(LetterKind::rejection, {}, {{"OLA  HANSEN", LetterKind::rejection, {}}});
  auto ev = match_evidence(form({line("Ola Hansen", R)}), {l});
  EXPECT_EQ(ev[0].status, R);
}

TEST(Evidence_Named, OneLetterNamingSeveralWithOwnKinds) {
  Letter l = letter(LetterKind::grant, {40000},
                    {{"Ola Hansen", LetterKind::grant, 40000},
                     {"Per Olsen", LetterKind::rejection, std::nullopt}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}), {l});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_EQ(ev[1].status, R);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_Named, NamedAmountMismatch) {
  Letter l = letter(LetterKind::grant, {35000}, {{"Ola Hansen", LetterKind::grant, 35000}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}), {l});
  EXPECT_TRUE(has(ev[0], "amount_mismatch"));
}

TEST(Evidence_Named, EntryWithoutKindTakesTheLettersKind) {
  Letter l = letter(LetterKind::rejection, {}, {{"Ola Hansen", LetterKind::unknown, {}}});
  auto ev = match_evidence(form({line("Ola Hansen", R)}), {l});
  EXPECT_EQ(ev[0].status, R);
}

TEST(Evidence_Named, SingleEntryWithoutAmountTakesTheLettersAmount) {
  Letter l = letter(LetterKind::grant, {40000}, {{"Ola Hansen", LetterKind::grant, {}}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}), {l});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_TRUE(ev[0].flags.empty());
}

TEST(Evidence_Named, SeveralEntriesWithoutAmountsMatchedByClaims) {
  Letter l = letter(LetterKind::grant, {30000, 40000},
                    {{"Ola Hansen", LetterKind::grant, {}}, {"Per Olsen", LetterKind::grant, {}}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}), {l});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_EQ(ev[1].grant, 30000);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_Named, SeveralEntriesWithoutAmountsAndNoMatchAreUnconfirmed) {
  Letter l = letter(LetterKind::grant, {},
                    {{"Ola Hansen", LetterKind::grant, {}}, {"Per Olsen", LetterKind::grant, {}}});
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}), {l});
  EXPECT_TRUE(has(ev[0], "amount_unconfirmed"));
  EXPECT_TRUE(has(ev[1], "amount_unconfirmed"));
}

TEST(Evidence_Named, TwoLettersThatDisagreeAreFlagged) {
  Letter a =
      letter(LetterKind::grant, {40000}, {{"Ola Hansen", LetterKind::grant, 40000}}, "a.pdf");
  Letter b =
      letter(LetterKind::rejection, {}, {{"Ola Hansen", LetterKind::rejection, {}}}, "b.pdf");
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000)}), {a, b});
  EXPECT_TRUE(has(ev[0], "state_status_mismatch"));
  Letter c =
      letter(LetterKind::grant, {30000}, {{"Ola Hansen", LetterKind::grant, 30000}}, "c.pdf");
  auto ev2 = match_evidence(form({line("Ola Hansen", G, 40000)}), {a, c});
  EXPECT_TRUE(has(ev2[0], "amount_mismatch"));
}

TEST(Evidence_Named, TwoLettersThatAgreeSettle) {
  Letter a =
      letter(LetterKind::grant, {40000}, {{"Ola Hansen", LetterKind::grant, 40000}}, "a.pdf");
  Letter b = letter(LetterKind::grant, {}, {{"Ola Hansen", LetterKind::grant, {}}}, "b.pdf");
  b.entries.push_back({"Per Olsen", LetterKind::unknown, {}});  // two entries, no amounts
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", U)}), {a, b});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_TRUE(ev[0].flags.empty());
}

TEST(Evidence_Named, NamedLetterThenUnnamedLetterForTheRest) {
  Letter named = letter(LetterKind::grant, {40000}, {{"Ola Hansen", LetterKind::grant, 40000}});
  Letter unnamed = letter(LetterKind::rejection, {}, {}, "avslag.pdf");
  auto ev =
      match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}), {named, unnamed});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_EQ(ev[1].status, R);
  EXPECT_EQ(ev[1].letter, 1);
}

// --- Several lines, letters naming nobody ---------------------------------------------------

TEST(Evidence_SeveralLines, OnlyRejectionAppliesToAllLines) {
  auto ev = match_evidence(form({line("Ola Hansen", R), line("Per Olsen", U)}),
                           {letter(LetterKind::rejection)});
  EXPECT_EQ(ev[0].status, R);
  EXPECT_EQ(ev[1].status, R);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_SeveralLines, OnlyRejectionContradictsALineClaimingAGrant) {
  auto ev = match_evidence(form({line("Ola Hansen", R), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::rejection)});
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(has(ev[1], "state_status_mismatch"));
}

TEST(Evidence_SeveralLines, GrantAmountsMatchedToClaimsOneToOne) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::grant, {30000, 40000})});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_EQ(ev[1].grant, 30000);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_SeveralLines, SingleAmountEqualToTheSumOfClaimsConfirmsAll) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::grant, {70000})});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_EQ(ev[1].grant, 30000);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_SeveralLines, UnmatchedClaimIsAmountMismatch) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::grant, {40000, 25000, 10000})});
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(has(ev[1], "amount_mismatch"));
}

TEST(Evidence_SeveralLines, OneLeftoverAmountForOneLineClaimingInnvilget) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G)}),
                           {letter(LetterKind::grant, {40000, 25000})});
  EXPECT_EQ(ev[0].grant, 40000);
  EXPECT_EQ(ev[1].grant, 25000);
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_SeveralLines, OneLeftoverAmountThatDiffersFromTheClaimIsAmountMismatch) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::grant, {40000, 25000})});
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(has(ev[1], "amount_mismatch"));
}

TEST(Evidence_SeveralLines, GrantWithoutAmountsIsUnconfirmedForEveryClaim) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::grant)});
  EXPECT_TRUE(has(ev[0], "amount_unconfirmed"));
  EXPECT_TRUE(has(ev[1], "amount_unconfirmed"));
}

TEST(Evidence_SeveralLines, OnlyGrantLetterContradictsALineClaimingAvslag) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}),
                           {letter(LetterKind::grant, {40000})});
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(has(ev[1], "state_status_mismatch"));
}

TEST(Evidence_SeveralLines, GrantAndRejectionLettersSplitByClaims) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", R)}),
                           {letter(LetterKind::grant, {40000}, {}, "tildeling.pdf"),
                            letter(LetterKind::rejection, {}, {}, "avslag.pdf")});
  EXPECT_EQ(ev[0].status, G);
  EXPECT_EQ(ev[0].letter, 0);
  EXPECT_EQ(ev[1].status, R);
  EXPECT_EQ(ev[1].letter, 1);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_SeveralLines, MixedLettersLeaveAnUnclaimedLineOpen) {
  auto ev = match_evidence(
      form({line("Ola Hansen", G, 40000), line("Per Olsen", R), line("Kari Berg", U)}),
      {letter(LetterKind::grant, {40000}), letter(LetterKind::rejection)});
  EXPECT_EQ(ev[2].status, U);
  EXPECT_TRUE(ev[2].flags.empty());
}

TEST(Evidence_SeveralLines, TwoUnnamedGrantLettersPoolTheirAmounts) {
  auto ev = match_evidence(form({line("Ola Hansen", G, 40000), line("Per Olsen", G, 30000)}),
                           {letter(LetterKind::grant, {30000}, {}, "a.pdf"),
                            letter(LetterKind::grant, {40000}, {}, "b.pdf")});
  EXPECT_EQ(ev[0].letter, 1);
  EXPECT_EQ(ev[1].letter, 0);
  EXPECT_TRUE(ev[0].flags.empty());
  EXPECT_TRUE(ev[1].flags.empty());
}

TEST(Evidence_Hostile, EmptyFormAndManyLettersDoNotCrash) {
  std::vector<Letter> letters(50, letter(LetterKind::grant, {1, 2, 3}));
  EXPECT_TRUE(match_evidence(Form{}, letters).empty());
  Form f = form(std::vector<FormLine>(20, line("", G, 1)));
  auto ev = match_evidence(f, letters);
  EXPECT_EQ(ev.size(), 20u);
}

// Letters that list names (issue 15): a letter whose total disagrees with the amounts of the
// names it lists confirms none of them, even when an amount equals the form's claim.
TEST(Evidence_ListedNames, TotalThatDisagreesLeavesTheLinesUnconfirmed) {
  LetterEntry ola{"Ola Hansen", LetterKind::grant, 50000, "the total is kr 90 000"};
  LetterEntry per{"Per Olsen", LetterKind::grant, 50000, "the total is kr 90 000"};
  auto ev = match_evidence(form({line("Ola Hansen", G, 50000), line("Per Olsen", U)}),
                           {letter(LetterKind::grant, {50000, 50000}, {ola, per})});
  ASSERT_EQ(ev.size(), 2u);
  for (const auto& e : ev) {
    EXPECT_TRUE(has(e, "amount_unconfirmed"));
    ASSERT_FALSE(e.flags.empty());
    EXPECT_NE(e.flags.front().reason.find("kr 90 000"), std::string::npos);
  }
  // Without the doubt both lines are settled at kr 50 000.
  ola.amount_doubt.clear();
  per.amount_doubt.clear();
  ev = match_evidence(form({line("Ola Hansen", G, 50000), line("Per Olsen", U)}),
                      {letter(LetterKind::grant, {50000, 50000}, {ola, per})});
  for (const auto& e : ev) {
    EXPECT_EQ(e.status, G);
    EXPECT_EQ(e.grant, 50000);
    EXPECT_TRUE(e.flags.empty());
  }
}

}  // namespace
}  // namespace tilskudd::rules
