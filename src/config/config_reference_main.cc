// modelgate_config_reference: prints the README's config reference, or with
// `--write README.md` replaces it between the markers (`make config-docs`).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "config/config_reference.h"

int main(int argc, char** argv) {
  const std::string reference = modelgate::ConfigReferenceMarkdown();
  if (argc == 1) {
    std::cout << reference;
    return 0;
  }
  if (argc != 3 || std::string(argv[1]) != "--write") {
    std::cerr << "usage: " << argv[0] << " [--write README.md]\n";
    return 2;
  }
  std::stringstream text;
  text << std::ifstream(argv[2]).rdbuf();
  auto updated = modelgate::ReplaceConfigReference(text.str(), reference);
  if (!updated) {
    std::cerr << argv[2] << ": no config reference markers (" << modelgate::kConfigReferenceBegin
              << " ... " << modelgate::kConfigReferenceEnd << ")\n";
    return 1;
  }
  if (*updated != text.str()) std::ofstream(argv[2], std::ios::trunc) << *updated;
  return 0;
}
