#include "config/config_keys.h"

namespace modelgate {

std::string ExpectedKeys(std::span<const std::string_view> names) {
  std::string s;
  for (std::string_view n : names) {
    if (!s.empty()) s += ", ";
    s += n;
  }
  return s;
}

std::string ChoiceList(std::span<const std::string_view> choices) {
  std::string s = choices.size() == 2 ? "" : "one of ";
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) s += choices.size() == 2 ? " or " : ", ";
    s += "\"" + std::string(choices[i]) + "\"";
  }
  return s;
}

std::string KeyTypeDoc(KeyKind kind, int64_t min, int64_t max, double min_number, double max_number,
                       std::span<const std::string_view> choices) {
  const auto range = [&] {
    return max == INT64_MAX ? "int ≥ " + std::to_string(min)
                            : "int " + std::to_string(min) + ".." + std::to_string(max);
  };
  switch (kind) {
    case KeyKind::kBool:
      return "bool";
    case KeyKind::kInt:
      return range();
    case KeyKind::kIntOrUnlimited:
      return range() + " \\| `\"unlimited\"`";
    case KeyKind::kNumber:
      return "number " + FormatConfigNumber(min_number) + ".." + FormatConfigNumber(max_number);
    case KeyKind::kString:
      return "string";
    case KeyKind::kChoice: {
      std::string s;
      for (std::string_view c : choices) {
        s += (s.empty() ? "`\"" : " \\| `\"") + std::string(c) + "\"`";
      }
      return s;
    }
    case KeyKind::kObject:
      return "object";
    case KeyKind::kCustom:
      return "";
  }
  return "";
}

}  // namespace modelgate
