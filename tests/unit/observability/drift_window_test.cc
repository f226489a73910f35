#include "observability/drift_window.h"

#include <gtest/gtest.h>

#include <cmath>

namespace modelgate {
namespace {

TEST(DriftWindowTest, PsiOfKnownDistributions) {
  const double expected[] = {0.25, 0.75};
  const double half[] = {0.5, 0.5};
  // 0.25 ln 2 + (-0.25) ln(2/3)
  EXPECT_NEAR(PopulationStabilityIndex(half, expected),
              0.25 * std::log(2.0) - 0.25 * std::log(2.0 / 3.0), 1e-12);
  EXPECT_DOUBLE_EQ(PopulationStabilityIndex(expected, expected), 0);
  // An empty bucket counts as kPsiEpsilon: finite.
  const double all_first[] = {1, 0};
  EXPECT_NEAR(PopulationStabilityIndex(all_first, half),
              0.5 * std::log(2.0) + (kPsiEpsilon - 0.5) * std::log(kPsiEpsilon / 0.5), 1e-12);
}

TEST(DriftWindowTest, CountsTheLastCapacityValues) {
  DriftWindow w(3, 4);
  EXPECT_EQ(w.size(), 0u);
  const double expected[] = {0.5, 0.25, 0.25};
  EXPECT_FALSE(w.Psi(expected).has_value());  // nothing seen yet
  w.Add(0);
  w.Add(0);
  w.Add(1);
  w.Add(2);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(std::vector<uint32_t>(w.counts().begin(), w.counts().end()),
            (std::vector<uint32_t>{2, 1, 1}));
  ASSERT_TRUE(w.Psi(expected).has_value());
  EXPECT_DOUBLE_EQ(*w.Psi(expected), 0);
  // Four more: the first four leave, one by one.
  w.Add(2);
  EXPECT_EQ(std::vector<uint32_t>(w.counts().begin(), w.counts().end()),
            (std::vector<uint32_t>{1, 1, 2}));
  w.Add(2);
  w.Add(2);
  w.Add(2);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.Ratios(), (std::vector<double>{0, 0, 1}));
  const double live[] = {0, 0, 1};
  EXPECT_DOUBLE_EQ(*w.Psi(expected), PopulationStabilityIndex(live, expected));
}

}  // namespace
}  // namespace modelgate
