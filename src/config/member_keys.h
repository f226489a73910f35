// Key descriptors bound to a struct member (`IntKey<&ModelConfig::workers>`):
// the setter and the README's default come from the member itself.
#pragma once

#include <string>
#include <string_view>

#include "config/config_keys.h"

namespace modelgate {

template <typename>
struct MemberTraits;
template <typename C, typename F>
struct MemberTraits<F C::*> {
  using Class = C;
  using Field = F;
};
template <auto M>
using ClassOf = typename MemberTraits<decltype(M)>::Class;
template <auto M>
using FieldOf = typename MemberTraits<decltype(M)>::Field;

template <auto M>
constexpr Key<ClassOf<M>> BoolKey(std::string_view name, std::string_view description) {
  return {.name = name,
          .kind = KeyKind::kBool,
          .set_bool = [](ClassOf<M>& t, bool v) { t.*M = v; },
          .show = [](const ClassOf<M>& t) { return std::string(t.*M ? "true" : "false"); },
          .description = description};
}

template <auto M>
constexpr Key<ClassOf<M>> IntKey(std::string_view name, int64_t min, int64_t max,
                                 std::string_view description) {
  return {.name = name,
          .kind = KeyKind::kInt,
          .min = min,
          .max = max,
          .set_int = [](ClassOf<M>& t, int64_t v) { t.*M = static_cast<FieldOf<M>>(v); },
          .show = [](const ClassOf<M>& t) { return std::to_string(t.*M); },
          .description = description};
}

template <auto M>
constexpr Key<ClassOf<M>> NumberKey(std::string_view name, double min, double max,
                                    std::string_view description) {
  return {.name = name,
          .kind = KeyKind::kNumber,
          .min_number = min,
          .max_number = max,
          .set_number = [](ClassOf<M>& t, double v) { t.*M = v; },
          .show = [](const ClassOf<M>& t) { return FormatConfigNumber(t.*M); },
          .description = description};
}

}  // namespace modelgate
