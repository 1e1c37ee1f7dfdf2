#include "workflow/case_state.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

namespace tilskudd {
namespace {

const CaseState kAll[] = {CaseState::received, CaseState::needs_documentation, CaseState::flagged,
                          CaseState::decided,  CaseState::decision_sent,       CaseState::scheduled,
                          CaseState::paid};

TEST(CaseState, AssessmentLeavesReceivedForEachOutcome) {
  EXPECT_TRUE(can_transition(CaseState::received, CaseState::needs_documentation));
  EXPECT_TRUE(can_transition(CaseState::received, CaseState::flagged));
  EXPECT_TRUE(can_transition(CaseState::received, CaseState::decided));
  EXPECT_FALSE(can_transition(CaseState::received, CaseState::decision_sent));
  EXPECT_FALSE(can_transition(CaseState::received, CaseState::received));
}

TEST(CaseState, ReminderIsASelfLoopOnNeedsDocumentation) {
  EXPECT_TRUE(can_transition(CaseState::needs_documentation, CaseState::needs_documentation));
  EXPECT_TRUE(can_transition(CaseState::needs_documentation, CaseState::decided));
  EXPECT_TRUE(can_transition(CaseState::needs_documentation, CaseState::flagged));
}

TEST(CaseState, SaksbehandlerResolvesFlagged) {
  EXPECT_TRUE(can_transition(CaseState::flagged, CaseState::decided));
  EXPECT_TRUE(can_transition(CaseState::flagged, CaseState::needs_documentation));
  EXPECT_TRUE(can_transition(CaseState::flagged, CaseState::flagged));
}

TEST(CaseState, AfterDecisionOnlyForwardToPaid) {
  EXPECT_TRUE(can_transition(CaseState::decided, CaseState::decision_sent));
  EXPECT_TRUE(can_transition(CaseState::decision_sent, CaseState::scheduled));
  EXPECT_TRUE(can_transition(CaseState::scheduled, CaseState::paid));
  EXPECT_FALSE(can_transition(CaseState::decided, CaseState::flagged));
  EXPECT_FALSE(can_transition(CaseState::decided, CaseState::needs_documentation));
  EXPECT_FALSE(can_transition(CaseState::decision_sent, CaseState::paid));
  EXPECT_FALSE(can_transition(CaseState::paid, CaseState::scheduled));
}

TEST(CaseState, NothingReturnsToReceivedAndPaidIsFinal) {
  for (CaseState s : kAll) EXPECT_FALSE(can_transition(s, CaseState::received)) << enum_name(s);
  for (CaseState s : kAll) EXPECT_FALSE(can_transition(CaseState::paid, s)) << enum_name(s);
  EXPECT_TRUE(is_final(CaseState::paid));
  EXPECT_FALSE(is_final(CaseState::decided));
  EXPECT_FALSE(is_final(CaseState::received));
}

TEST(CaseState, TableHasNoDuplicateEdgesAndEveryEdgeExplained) {
  std::set<std::pair<CaseState, CaseState>> seen;
  for (const auto& t : case_transitions()) {
    EXPECT_TRUE(seen.insert({t.from, t.to}).second) << enum_name(t.from) << "->" << enum_name(t.to);
    EXPECT_FALSE(t.why.empty());
    EXPECT_TRUE(can_transition(t.from, t.to));
  }
  EXPECT_EQ(seen.size(), 12u);
}

TEST(CaseState, EveryStateIsReachableFromReceived) {
  std::set<CaseState> reached{CaseState::received};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& t : case_transitions())
      if (reached.count(t.from) && reached.insert(t.to).second) grew = true;
  }
  for (CaseState s : kAll) EXPECT_TRUE(reached.count(s)) << enum_name(s);
}

TEST(CaseState, NamesRoundTrip) {
  for (CaseState s : kAll) {
    auto name = enum_name(s);
    auto back = parse_enum<CaseState>(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(enum_name(CaseState::decision_sent), "decision_sent");
}

TEST(CaseState, UnknownNamesAreRejected) {
  EXPECT_FALSE(parse_enum<CaseState>("").has_value());
  EXPECT_FALSE(parse_enum<CaseState>("ignored").has_value());
  EXPECT_FALSE(parse_enum<CaseState>("Decided").has_value());
  EXPECT_FALSE(parse_enum<CaseState>(std::string("decided\0x", 9)).has_value());
}

TEST(CaseState, AssessmentStatusMapsToState) {
  EXPECT_EQ(state_for(rules::CaseStatus::decided), CaseState::decided);
  EXPECT_EQ(state_for(rules::CaseStatus::needs_documentation), CaseState::needs_documentation);
  EXPECT_EQ(state_for(rules::CaseStatus::flagged), CaseState::flagged);
  EXPECT_FALSE(state_for(rules::CaseStatus::ignored).has_value());
}

}  // namespace
}  // namespace tilskudd
