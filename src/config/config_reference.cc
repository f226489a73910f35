#include "config/config_reference.h"

#include "config/model_config_keys.h"

namespace modelgate {

namespace {

// Offsets of the text between the markers, each marker on its own line.
std::optional<std::pair<size_t, size_t>> Between(std::string_view readme) {
  const size_t begin = readme.find(kConfigReferenceBegin);
  if (begin == std::string_view::npos) return std::nullopt;
  const size_t from = begin + kConfigReferenceBegin.size() + 1;  // past its newline
  const size_t end = readme.find(kConfigReferenceEnd, begin);
  if (end == std::string_view::npos || end < from) return std::nullopt;
  return std::make_pair(from, end);
}

}  // namespace

std::string ConfigReferenceMarkdown() {
  std::string md;
  for (const TableReference& table : ModelConfigReference()) {
    if (!table.title.empty()) md += "\n" + table.title + ":\n\n";
    md += "| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const KeyReference& k : table.keys) {
      md += "| `" + k.name + "` | " + k.type + " | " + k.default_value + " | " + k.description +
            " |\n";
    }
  }
  return md;
}

std::optional<std::string> ExtractConfigReference(std::string_view readme) {
  auto at = Between(readme);
  if (!at) return std::nullopt;
  return std::string(readme.substr(at->first, at->second - at->first));
}

std::optional<std::string> ReplaceConfigReference(std::string_view readme,
                                                  std::string_view reference) {
  auto at = Between(readme);
  if (!at) return std::nullopt;
  std::string out(readme.substr(0, at->first));
  out += reference;
  out += readme.substr(at->second);
  return out;
}

}  // namespace modelgate
