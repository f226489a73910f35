// ScanModel / ScanRepository / ListModels on real temp directories:
// version_policy decides the served versions, per-version config.json
// overlays the model's, the load parameter replaces config.json, and every
// mistake is an error naming the file (or the parameter).
#include "modelgate/model_repository.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "unit/config/temp_tree.h"

namespace modelgate {
namespace {

constexpr char kInputsX[] = R"("inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}])";

std::string Config(const std::string& extra = "") {
  return std::string(R"({"backend": "python", )") + kInputsX + (extra.empty() ? "" : ", ") + extra +
         "}";
}

class ModelRepositoryTest : public ::testing::Test {
 protected:
  // Model `m` with config.json `config` and the given version directories.
  void MakeModel(const std::string& config, std::initializer_list<int> versions,
                 const std::string& name = "m") {
    repo_.Write(name + "/config.json", config);
    for (int v : versions)
      repo_.Write(name + "/" + std::to_string(v) + "/model.py", "class Model: pass\n");
  }
  std::string Root() const { return repo_.root().string(); }
  std::string Dir(const std::string& rel) const { return repo_.Path(rel); }

  StatusOr<ModelEntry> Scan(const std::optional<std::string>& config = std::nullopt) {
    return ScanModel(Root(), "m", config);
  }

  static std::vector<int64_t> Served(const ModelEntry& e) {
    std::vector<int64_t> v;
    for (const auto& [version, entry] : e.versions) v.push_back(version);
    return v;
  }

  static void ExpectInvalid(const StatusOr<ModelEntry>& e, const std::string& text) {
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status().message();
    EXPECT_NE(e.status().message().find(text), std::string::npos) << e.status().message();
  }

  TempTree repo_;
};

TEST_F(ModelRepositoryTest, DefaultPolicyServesTheHighestVersionOnly) {
  MakeModel(Config(), {1, 2, 10});
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{10}));
  EXPECT_EQ(e->unserved, (std::vector<int64_t>{1, 2}));
  const VersionEntry& v = e->versions.at(10);
  EXPECT_EQ(v.version, 10);
  EXPECT_EQ(v.dir, std::filesystem::absolute(Dir("m/10")).string());
  EXPECT_EQ(v.config.name, "m");
  EXPECT_EQ(e->config.source_file, Dir("m/config.json"));
}

TEST_F(ModelRepositoryTest, LatestAllAndSpecificPolicies) {
  MakeModel(Config(R"("version_policy": {"latest": {"num_versions": 2}})"), {1, 2, 3});
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(e->unserved, (std::vector<int64_t>{1}));

  MakeModel(Config(R"("version_policy": {"latest": {"num_versions": 5}})"), {});
  e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(e->unserved.empty());

  MakeModel(Config(R"("version_policy": {"all": {}})"), {});
  e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{1, 2, 3}));

  MakeModel(Config(R"("version_policy": {"specific": {"versions": [3, 1]}})"), {});
  e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(e->unserved, (std::vector<int64_t>{2}));
}

TEST_F(ModelRepositoryTest, OnlyVersionNamedDirectoriesCount) {
  MakeModel(Config(R"("version_policy": {"all": {}})"), {1});
  repo_.Write("m/01/model.py", "");
  repo_.Write("m/latest/model.py", "");
  repo_.Write("m/2", "a file, not a directory");
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{1}));
  EXPECT_TRUE(e->unserved.empty());
}

TEST_F(ModelRepositoryTest, SpecificVersionMissingOnDiskIsAnError) {
  MakeModel(Config(R"("version_policy": {"specific": {"versions": [1, 4]}})"), {1, 2});
  ExpectInvalid(Scan(),
                Dir("m/config.json") +
                    ": key 'version_policy.specific.versions': version 4 has no directory " +
                    Dir("m/4") + " (versions on disk: 1, 2)");
}

TEST_F(ModelRepositoryTest, TrafficMustNameServedVersions) {
  MakeModel(Config(R"("version_policy": {"all": {}}, "traffic": {"1": 90, "2": 10})"), {1, 2});
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->config.traffic, (std::map<int64_t, int64_t>{{1, 90}, {2, 10}}));

  MakeModel(Config(R"("traffic": {"1": 90, "2": 10})"), {});
  ExpectInvalid(Scan(), Dir("m/config.json") +
                            ": key 'traffic.1': version 1 is not served (version_policy serves 2)");
}

TEST_F(ModelRepositoryTest, NoVersionDirectoryAndMissingCodeFileAreErrors) {
  MakeModel(Config(), {});
  ExpectInvalid(Scan(), Dir("m") + ": no version directory (expected m/1/model.py)");

  MakeModel(Config(R"("version_policy": {"all": {}})"), {2});
  std::filesystem::create_directories(Dir("m/1"));
  ExpectInvalid(Scan(), Dir("m/1/model.py") + ": missing (backend 'python')");
}

TEST_F(ModelRepositoryTest, UnservedVersionsAreNotRead) {
  MakeModel(Config(), {2});
  std::filesystem::create_directories(Dir("m/1"));  // no model.py
  repo_.Write("m/1/config.json", "not json");
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->unserved, (std::vector<int64_t>{1}));
}

TEST_F(ModelRepositoryTest, VersionConfigOverlaysTheModelsTopLevelKeys) {
  MakeModel(Config(R"("workers": 3, "version_policy": {"all": {}}, "traffic": {"1": 1, "2": 1})"),
            {1, 2});
  repo_.Write("m/2/config.json",
              R"({"inputs": [{"name": "a", "datatype": "INT32", "shape": [2]},
                             {"name": "b", "datatype": "BYTES", "shape": [-1]}],
                  "max_queue_size": 7})");
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  const ModelConfig& v1 = e->versions.at(1).config;
  const ModelConfig& v2 = e->versions.at(2).config;
  ASSERT_EQ(v1.inputs.size(), 1u);
  EXPECT_EQ(v1.inputs[0].name, "x");
  ASSERT_EQ(v2.inputs.size(), 2u);  // the list is replaced whole
  EXPECT_EQ(v2.inputs[0].name, "a");
  EXPECT_EQ(v2.inputs[1].datatype, DataType::kBytes);
  EXPECT_EQ(v2.max_queue_size, 7);
  EXPECT_EQ(v2.workers, 3);  // inherited
  EXPECT_EQ(v2.source_file, Dir("m/2/config.json") + " (over " + Dir("m/config.json") + ")");
  EXPECT_EQ(e->config.inputs[0].name, "x");  // the model's own config is untouched

  // config_json: canonical (sorted keys), effective, without the model-level keys.
  const auto j2 = nlohmann::json::parse(e->versions.at(2).config_json);
  EXPECT_EQ(j2.at("max_queue_size"), 7);
  EXPECT_EQ(j2.at("workers"), 3);
  EXPECT_EQ(j2.at("inputs").size(), 2u);
  EXPECT_FALSE(j2.contains("traffic"));
  EXPECT_FALSE(j2.contains("version_policy"));
  EXPECT_EQ(e->versions.at(2).config_json, j2.dump());
  EXPECT_EQ(e->versions.at(1).config_json, nlohmann::json::parse(Config(R"("workers": 3)")).dump());
}

TEST_F(ModelRepositoryTest, TrafficAndPolicyChangesLeaveConfigJsonAlone) {
  MakeModel(Config(R"("version_policy": {"all": {}}, "traffic": {"1": 90, "2": 10})"), {1, 2});
  auto before = Scan();
  ASSERT_TRUE(before.ok()) << before.status().message();
  MakeModel(
      Config(R"("traffic": {"1": 0, "2": 100}, "version_policy": {"latest": {"num_versions": 2}})"),
      {});
  auto after = Scan();
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(after->config.traffic, (std::map<int64_t, int64_t>{{1, 0}, {2, 100}}));
  for (int64_t v : {1, 2}) {
    EXPECT_EQ(after->versions.at(v).config_json, before->versions.at(v).config_json) << v;
  }
  // Any other key is part of it.
  MakeModel(Config(R"("version_policy": {"all": {}}, "workers": 2)"), {});
  auto workers = Scan();
  ASSERT_TRUE(workers.ok()) << workers.status().message();
  EXPECT_NE(workers->versions.at(1).config_json, before->versions.at(1).config_json);
}

TEST_F(ModelRepositoryTest, ExamplesLeaveConfigJsonAlone) {
  MakeModel(Config(), {1});
  auto before = Scan();
  ASSERT_TRUE(before.ok()) << before.status().message();
  MakeModel(Config(R"("examples": [{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1],
                "data": [1]}], "outputs": [{"name": "y", "data": [2]}]}])"),
            {});
  auto after = Scan();
  ASSERT_TRUE(after.ok()) << after.status().message();
  ASSERT_EQ(after->versions.at(1).config.examples.size(), 1u);
  EXPECT_EQ(after->versions.at(1).config_json, before->versions.at(1).config_json);
}

TEST_F(ModelRepositoryTest, VersionConfigErrorsNameTheVersionFile) {
  MakeModel(Config(), {1});
  const std::string over = Dir("m/1/config.json") + " (over " + Dir("m/config.json") + ")";
  repo_.Write("m/1/config.json", R"({"workers": 0})");
  ExpectInvalid(Scan(), over + ": key 'workers': must be between 1 and");
  repo_.Write("m/1/config.json", R"({"traffic": {"1": 1}})");
  ExpectInvalid(Scan(), Dir("m/1/config.json") + ": key 'traffic': is model level; set it in " +
                            Dir("m/config.json"));
  repo_.Write("m/1/config.json", R"({"version_policy": {"all": {}}})");
  ExpectInvalid(Scan(), Dir("m/1/config.json") + ": key 'version_policy': is model level");
  repo_.Write("m/1/config.json", "[1]");
  ExpectInvalid(Scan(), Dir("m/1/config.json") + ": must be a JSON object");
  repo_.Write("m/1/config.json", "{");
  ExpectInvalid(Scan(), Dir("m/1/config.json") + ": not valid JSON");
  // A warm-up of the model's inputs no longer fits a version that changes them.
  MakeModel(Config(R"("warmup": [{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1],
                                               "data": [1]}]}])"),
            {});
  repo_.Write("m/1/config.json",
              R"({"inputs": [{"name": "y", "datatype": "FP64", "shape": [1]}]})");
  ExpectInvalid(Scan(), over + ": key 'warmup[0].inputs[0].name': 'x' is not a declared input");
}

TEST_F(ModelRepositoryTest, ConfigParameterReplacesConfigJson) {
  MakeModel(Config(R"("workers": 2)"), {1, 2});
  auto e = Scan(Config(R"("workers": 4, "version_policy": {"all": {}})"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->config.workers, 4);
  EXPECT_EQ(Served(*e), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(e->config.source_file, std::string(kConfigParameterSource));
  // A version's own config.json still overlays the parameter.
  repo_.Write("m/2/config.json", R"({"workers": 5})");
  e = Scan(Config(R"("version_policy": {"all": {}})"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->versions.at(1).config.workers, 1);
  EXPECT_EQ(e->versions.at(2).config.workers, 5);
  // Even a model directory without config.json loads with the parameter.
  std::filesystem::remove(Dir("m/config.json"));
  EXPECT_TRUE(Scan(Config()).ok());
}

TEST_F(ModelRepositoryTest, BadConfigParameterIsInvalidArgumentNamingIt) {
  MakeModel(Config(), {1});
  const std::string param(kConfigParameterSource);
  ExpectInvalid(Scan("{not json"), param + ": not valid JSON");
  ExpectInvalid(Scan(R"({"workers": 1e400})"), param + ": not valid JSON");
  ExpectInvalid(Scan("[]"), param + ": must be a JSON object");
  ExpectInvalid(Scan(R"({"backend": "python", "inputs": []})"),
                param + ": key 'inputs': must not be empty");
  ExpectInvalid(Scan(Config(R"("traffic": {"3": 1})")),
                param + ": key 'traffic.3': version 3 is not served");
  // What runs, with which environment and limits, is the repository's say.
  ExpectInvalid(Scan(Config(R"("env": {"LD_PRELOAD": "/tmp/x.so"})")),
                param + ": key 'env' cannot be set by a load request");
  ExpectInvalid(Scan(Config(R"("interpreter": "/bin/sh")")),
                param + ": key 'interpreter' cannot be set by a load request");
  ExpectInvalid(Scan(std::string(100, '[')), param + ": malformed JSON: nested deeper");
}

TEST_F(ModelRepositoryTest, UnknownModelIsNotFound) {
  auto e = ScanModel(Root(), "nope");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.status().message(), "no model directory " + Dir("nope"));
}

TEST_F(ModelRepositoryTest, NamesThatAreNotOneDirectoryNameAreRejected) {
  MakeModel(Config(), {1});
  MakeModel(Config(), {1}, "sub/m");
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string("../m"),
        std::string("sub/m"), std::string("/etc"), std::string(".hidden"), std::string("a\nb"),
        std::string("a\0b", 3), std::string(256, 'a')}) {
    auto e = ScanModel(Root(), bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(e.status().message().find("is not a directory name"), std::string::npos)
        << e.status().message();
  }
  EXPECT_TRUE(ScanModel(Root(), "m").ok());
}

TEST_F(ModelRepositoryTest, ListModelsSortsAndSkipsDotDirectoriesAndFiles) {
  MakeModel(Config(), {1}, "zeta");
  MakeModel(Config(), {1}, "alpha");
  std::filesystem::create_directories(Dir(".snapshots"));
  repo_.Write("README", "not a model");
  auto names = ListModels(Root());
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "zeta"}));
  auto missing = ListModels(Dir("nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "model repository '" + Dir("nothing") + "' is not a directory");
}

TEST_F(ModelRepositoryTest, ScanRepositoryScansEveryModelAndKeepsItsMessages) {
  MakeModel(Config(), {1}, "a");
  MakeModel(Config(R"("version_policy": {"all": {}})"), {1, 2}, "b");
  auto models = ScanRepository(Root());
  ASSERT_TRUE(models.ok()) << models.status().message();
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].config.name, "a");
  EXPECT_EQ(Served((*models)[1]), (std::vector<int64_t>{1, 2}));

  repo_.Write("c/config.yaml", "backend: python\n");
  repo_.Write("c/1/model.py", "");
  auto yaml = ScanRepository(Root());
  ASSERT_FALSE(yaml.ok());
  EXPECT_EQ(
      yaml.status().message(),
      Dir("c/config.yaml") + ": YAML configs are not supported by this build; write config.json");
  std::filesystem::remove(Dir("c/config.yaml"));
  auto missing = ScanRepository(Root());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            Dir("c/config.json") + ": missing (every model directory needs one)");
}

TEST_F(ModelRepositoryTest, SearchPathsResolveAgainstTheModelDirectoryAndMustExist) {
  repo_.Write("m/venv/site/.keep", "");
  repo_.Write("shared/lib/.keep", "");
  MakeModel(Config(R"("python_path": ["venv/site", "../shared/lib"])"), {1});
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  // Absolute and normalised, in the order given.
  EXPECT_EQ(e->versions.at(1).config.python_path,
            (std::vector<std::string>{Dir("m/venv/site"), Dir("shared/lib")}));

  MakeModel(Config(R"("python_path": ["venv/site", "venv/missing"])"), {1});
  ExpectInvalid(Scan(), Dir("m/config.json") +
                            ": key 'python_path[1]': 'venv/missing' is not an existing directory "
                            "(resolved to " +
                            Dir("m/venv/missing") + ")");
  // A file is not a library directory.
  MakeModel(Config(R"("python_path": ["1/model.py"])"), {1});
  ExpectInvalid(Scan(), "key 'python_path[0]': '1/model.py' is not an existing directory");
}

TEST_F(ModelRepositoryTest, RLibsInAVersionConfigNameThatFile) {
  repo_.Write("m/config.json", R"({"backend": "r", "inputs": [{"name": "x", "datatype": "FP64",
                                   "shape": [-1]}]})");
  repo_.Write("m/1/model.R", "predict_fn <- function(inputs) inputs\n");
  repo_.Write("m/1/config.json", R"({"r_libs": ["/nonexistent-modelgate-lib"]})");
  ExpectInvalid(Scan(), Dir("m/1/config.json") + " (over " + Dir("m/config.json") +
                            "): key 'r_libs[0]': '/nonexistent-modelgate-lib' is not an existing "
                            "directory");
  repo_.Write("m/rlib/.keep", "");
  repo_.Write("m/1/config.json", R"({"r_libs": ["rlib"]})");
  auto e = Scan();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->versions.at(1).config.r_libs, std::vector<std::string>{Dir("m/rlib")});
}

}  // namespace
}  // namespace modelgate
