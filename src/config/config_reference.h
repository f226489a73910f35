// The README's config reference, generated from the key tables
// (model_config_keys.h): `make config-docs` writes it into README.md between
// the marker comments, and a unit test fails when the README differs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace modelgate {

inline constexpr std::string_view kConfigReferenceBegin =
    "<!-- config-reference:begin (generated from the key tables in src/config/ by `make "
    "config-docs`; do not edit) -->";
inline constexpr std::string_view kConfigReferenceEnd = "<!-- config-reference:end -->";

// The markdown tables, one per object, without the markers.
std::string ConfigReferenceMarkdown();

// The text between the markers in `readme` (without them); nullopt when the
// markers are missing or out of order.
std::optional<std::string> ExtractConfigReference(std::string_view readme);

// `readme` with the text between the markers replaced by `reference`;
// nullopt when the markers are missing or out of order.
std::optional<std::string> ReplaceConfigReference(std::string_view readme,
                                                  std::string_view reference);

}  // namespace modelgate
