#include "modelgate/drift_reference.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "modelgate/model_repository.h"
#include "unit/config/temp_tree.h"

namespace modelgate {
namespace {

using nlohmann::json;

std::vector<TensorSpec> Inputs() {
  return {{"x", DataType::kFp64, {-1}, false},
          {"features", DataType::kFp32, {-1, 4}, false},
          {"color", DataType::kBytes, {-1}, false}};
}

StatusOr<DriftReference> Parse(const std::string& text,
                               const std::vector<TensorSpec>& inputs = Inputs()) {
  return ParseDriftReference(json::parse(text), "ref.json", inputs);
}

// The error of a reference that must fail.
std::string Error(const std::string& text) {
  auto r = Parse(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

TEST(DriftReferenceTest, ParsesNumericColumnAndCategoricalEntries) {
  auto r = Parse(R"({"format": 1, "rows": 150, "inputs": {
    "x": {"edges": [1, 2], "proportions": [0.25, 0.5, 0.25]},
    "petal": {"input": "features", "column": 2, "edges": [0.5], "proportions": [0.4, 0.6]},
    "color": {"categories": {"red": 0.5, "blue": 0.3}, "other": 0.2}}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->entries.size(), 3u);
  const DriftEntry& color = r->entries[0];  // sorted by name
  EXPECT_EQ(color.name, "color");
  EXPECT_TRUE(color.categorical);
  EXPECT_EQ(color.categories, (std::vector<std::string>{"blue", "red"}));
  EXPECT_EQ(color.proportions, (std::vector<double>{0.3, 0.5, 0.2}));  // other last
  const DriftEntry& petal = r->entries[1];
  EXPECT_EQ(petal.input, "features");
  ASSERT_TRUE(petal.column.has_value());
  EXPECT_EQ(*petal.column, 2);
  const DriftEntry& x = r->entries[2];
  EXPECT_FALSE(x.column.has_value());
  EXPECT_EQ(x.edges, (std::vector<double>{1, 2}));
}

TEST(DriftReferenceTest, ErrorsNameFileKeyAndReason) {
  EXPECT_EQ(Error(R"({"inputs": {}})"), "ref.json: key 'format': is required (1)");
  EXPECT_EQ(Error(R"({"format": 2, "inputs": {}})"),
            "ref.json: key 'format': must be between 1 and 1, got 2");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {}})"),
            "ref.json: key 'inputs': must be an object of 1 to 256 monitored inputs");
  EXPECT_EQ(Error(R"({"format": 1, "extra": 1, "inputs": {}})"),
            "ref.json: key 'extra': unknown key (expected format, rows, inputs)");
  EXPECT_EQ(
      Error(R"({"format": 1, "inputs": {"x": {"edges": [2, 1], "proportions": [0.5, 0.5, 0]}}})"),
      "ref.json: key 'inputs.x.edges[1]': must be greater than the edge before it (2)");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"x": {"edges": [1], "proportions": [0.5]}}})"),
            "ref.json: key 'inputs.x.proportions': must be an array of 2 numbers (one more than "
            "the edges)");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"x": {"edges": [1], "proportions": [0.5, 0.6]}}})"),
            "ref.json: key 'inputs.x.proportions': proportions must sum to 1, got 1.1");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"x": {"edges": [1]}}})"),
            "ref.json: key 'inputs.x.proportions': is required beside \"edges\"");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"x": {"proportions": [1]}}})"),
            "ref.json: key 'inputs.x': needs exactly one of \"edges\" (numeric) or \"categories\" "
            "(BYTES)");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"y": {"edges": [1], "proportions": [0.5, 0.5]}}})"),
            "ref.json: key 'inputs.y.input': the model has no input 'y' (inputs: x, features, "
            "color)");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"x": {"categories": {"a": 1}}}})"),
            "ref.json: key 'inputs.x.categories': are for BYTES inputs; input 'x' is FP64 (give "
            "\"edges\")");
  EXPECT_EQ(
      Error(R"({"format": 1, "inputs": {"color": {"edges": [1], "proportions": [0.5, 0.5]}}})"),
      "ref.json: key 'inputs.color.edges': are for numeric inputs; input 'color' is BYTES "
      "(give \"categories\")");
  EXPECT_EQ(
      Error(
          R"({"format": 1, "inputs": {"x": {"column": 0, "edges": [1], "proportions": [0.5, 0.5]}}})"),
      "ref.json: key 'inputs.x.column': needs a 2-D input; input 'x' has shape [-1]");
  EXPECT_EQ(
      Error(
          R"({"format": 1, "inputs": {"f": {"input": "features", "column": 4, "edges": [1], "proportions": [0.5, 0.5]}}})"),
      "ref.json: key 'inputs.f.column': must be below the input's width 4, got 4");
  EXPECT_EQ(Error(R"({"format": 1, "inputs": {"color": {"categories": {"_other": 1}}}})"),
            "ref.json: key 'inputs.color.categories._other': is reserved for the live values "
            "outside the categories (give their reference share as \"other\")");
  EXPECT_EQ(
      Error(R"({"format": 1, "inputs": {"color": {"categories": {"a": 0.5}, "other": 0.4}}})"),
      "ref.json: key 'inputs.color.categories': proportions must sum to 1, got 0.9");
  EXPECT_EQ(
      Error(
          R"({"format": 1, "inputs": {"x": {"edges": [1], "proportions": [0.5, 0.5], "bins": 2}}})"),
      "ref.json: key 'inputs.x.bins': unknown key (expected input, column, edges, "
      "proportions, categories, other)");
}

TEST(DriftReferenceTest, WithoutDeclaredInputsOnlyTheFileIsChecked) {
  // A signature declared in code: nothing in config.json to check against.
  EXPECT_TRUE(
      Parse(R"({"format": 1, "inputs": {"y": {"edges": [1], "proportions": [0.5, 0.5]}}})", {})
          .ok());
}

class DriftRepositoryTest : public ::testing::Test {
 protected:
  void WriteModel(const std::string& drift) {
    tree_.Write("m/config.json", R"({"backend": "python", "inputs": [
      {"name": "x", "datatype": "FP64", "shape": [-1]}], "drift": )" +
                                     drift + "}");
    tree_.Write("m/1/model.py", "");
  }
  TempTree tree_;
};

TEST_F(DriftRepositoryTest, ScanReadsTheReferenceOfEachVersion) {
  WriteModel(R"({"reference": "ref.json", "window": 50})");
  tree_.Write("m/1/ref.json",
              R"({"format": 1, "inputs": {"x": {"edges": [0], "proportions": [0.5, 0.5]}}})");
  auto m = ScanModel(tree_.root().string(), "m");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const VersionEntry& v = m->versions.at(1);
  EXPECT_EQ(v.config.drift.window, 50);
  ASSERT_NE(v.drift, nullptr);
  EXPECT_EQ(v.drift->entries.at(0).name, "x");
}

TEST_F(DriftRepositoryTest, BadReferencesFailTheLoadNamingFileAndKey) {
  WriteModel(R"({"reference": "ref.json"})");
  auto m = ScanModel(tree_.root().string(), "m");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("config.json: key 'drift.reference': "), std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("ref.json"), std::string::npos);

  tree_.Write("m/1/ref.json", R"({"format": 1, "inputs": {"x": {"edges": [0]}}})");
  m = ScanModel(tree_.root().string(), "m");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), tree_.Path("m/1/ref.json") +
                                      ": key 'inputs.x.proportions': is required beside \"edges\"");

  WriteModel(R"({"reference": "../ref.json"})");
  m = ScanModel(tree_.root().string(), "m");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find(
                "key 'drift.reference': must stay inside the version directory (no \"..\")"),
            std::string::npos)
      << m.status().message();

  WriteModel(R"({"reference": "/etc/passwd"})");
  m = ScanModel(tree_.root().string(), "m");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("must be relative to the version directory"),
            std::string::npos);

  // A symlink out of the version directory.
  tree_.Write("outside.json", "{}");
  std::filesystem::create_symlink(tree_.Path("outside.json"), tree_.Path("m/1/link.json"));
  WriteModel(R"({"reference": "link.json"})");
  m = ScanModel(tree_.root().string(), "m");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("resolves outside the version directory"), std::string::npos)
      << m.status().message();

  WriteModel(R"({"reference": "ref.json", "window": 5})");
  m = ScanModel(tree_.root().string(), "m");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("key 'drift.window': must be between 10 and 1000000, got 5"),
            std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace modelgate
