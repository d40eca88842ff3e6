#include "rules.h"

namespace model {

const RuleInfo& rule_info(Rule r) {
  static const RuleInfo kInfo[] = {
      {"None", "", ""},
#define EO_RULE_INFO(id, site, text) {std::string_view(#id).substr(1), site, text},
      EO_MODEL_RULES(EO_RULE_INFO)
#undef EO_RULE_INFO
  };
  return kInfo[static_cast<size_t>(r)];
}

}  // namespace model
