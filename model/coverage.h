// RuleCoverage: counts how often each model rule (rules.h) was taken, as Netsem counted
// the rules of its TCP specification. Attach it as the model's observer.
#pragma once
#include <array>
#include <cstdint>

#include "observer.h"
#include "rules.h"

namespace model {

class RuleCoverage : public Observer {
 public:
  void on_event(const Event& e) override { ++counts_[static_cast<size_t>(e.rule)]; }
  uint64_t count(Rule r) const { return counts_[static_cast<size_t>(r)]; }
  // Rules other than kNone taken at least once.
  size_t reached() const {
    size_t n = 0;
    for (size_t i = 1; i < kRuleCount; ++i) n += counts_[i] != 0;
    return n;
  }
  static constexpr size_t total() { return kRuleCount - 1; }
  void merge(const RuleCoverage& o) {
    for (size_t i = 0; i < kRuleCount; ++i) counts_[i] += o.counts_[i];
  }

 private:
  std::array<uint64_t, kRuleCount> counts_{};
};

}  // namespace model
