// Codabench v2 bundles (bundle.h): bundles made here with libzip, in Codabench's documented
// layout, read back; the scoring program they hold run in the sandbox on a predictions folder;
// and each refusal (paths leaving their folder, links, zip bombs, YAML that is not v2) with its
// exact message.
#include "validation/bundle/bundle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compute/exec/sandbox.h"
#include "validation/runner/program_runner.h"

namespace openlab::validation::bundle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
namespace fs = std::filesystem;

std::string SupervisorBin() {
  if (const char* v = getenv("OPENLAB_SUPERVISOR_BIN")) return v;
#ifdef OPENLAB_TEST_SUPERVISOR_BIN
  if (access(OPENLAB_TEST_SUPERVISOR_BIN, X_OK) == 0) return OPENLAB_TEST_SUPERVISOR_BIN;
#endif
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Entry {
  std::string name;     // a trailing '/' makes a folder
  std::string content;  // for a link: its target
  mode_t type = S_IFREG;
};

// A zip of `entries`, as bytes (libzip writes it; a link is a member whose Unix mode says so).
std::string Zip(const std::vector<Entry>& entries) {
  char tmpl[] = "/tmp/openlab-bundle-zip-XXXXXX";
  int fd = mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  close(fd);
  unlink(tmpl);
  int err = 0;
  zip_t* z = zip_open(tmpl, ZIP_CREATE | ZIP_EXCL, &err);
  EXPECT_NE(z, nullptr) << err;
  for (const Entry& e : entries) {
    zip_int64_t idx;
    if (!e.name.empty() && e.name.back() == '/') {
      idx = zip_dir_add(z, e.name.c_str(), ZIP_FL_ENC_RAW);
    } else {
      zip_source_t* src = zip_source_buffer(z, e.content.data(), e.content.size(), 0);
      idx = zip_file_add(z, e.name.c_str(), src, ZIP_FL_ENC_RAW | ZIP_FL_OVERWRITE);
    }
    EXPECT_GE(idx, 0) << e.name << ": " << zip_strerror(z);
    mode_t mode = e.type | (e.type == S_IFDIR ? 0755 : 0644);
    if (e.name.back() == '/') mode = S_IFDIR | 0755;
    zip_file_set_external_attributes(z, idx, 0, ZIP_OPSYS_UNIX,
                                     static_cast<zip_uint32_t>(mode) << 16);
  }
  EXPECT_EQ(zip_close(z), 0);
  std::string bytes = ReadFile(tmpl);
  unlink(tmpl);
  return bytes;
}

constexpr char kScoreProgram[] = R"(import json, os, sys
inp, out = sys.argv[1], sys.argv[2]
def read(path):
    rows = open(path).read().split("\n")[1:]
    return dict(r.split(",") for r in rows if r)
ref = read(os.path.join(inp, "ref", "labels.csv"))
res = read(os.path.join(inp, "res", "predictions.csv"))
right = sum(1 for k, v in ref.items() if res.get(k) == v)
json.dump({"accuracy": right / len(ref), "errors": len(ref) - right},
          open(os.path.join(out, "scores.json"), "w"))
)";

constexpr char kLabels[] = "id,label\n1,setosa\n2,versicolor\n3,virginica\n4,setosa\n5,virginica\n";

// competition.yaml in Codabench's documented v2 structure.
constexpr char kYaml[] = R"(version: 2
title: Iris species
description: Classify iris flowers by species
image: logo.png
terms: terms.md
docker_image: codalab/codalab-legacy:py3
registration_auto_approve: true
pages:
  - title: Overview
    file: overview.md
  - title: Evaluation
    file: pages/evaluation.md
phases:
  - index: 0
    name: Development
    description: Feedback on the public labels
    start: 2024-01-01
    end: 2024-06-30 12:00
    max_submissions_per_day: 5
    max_submissions: 100
    execution_time_limit: 600
    tasks:
      - 0
  - index: 1
    name: Final
    start: 2024-07-01T00:00:00+09:00
    tasks: [0]
tasks:
  - index: 0
    name: Iris species
    description: Predict each flower's species
    scoring_program: scoring_program.zip
    reference_data: reference_data.zip
leaderboards:
  - index: 0
    title: Results
    key: main
    columns:
      - title: Errors
        key: errors
        index: 1
        sorting: asc
      - title: Accuracy
        key: accuracy
        index: 0
        sorting: desc
)";

std::vector<Entry> GoodBundle() {
  return {{"competition.yaml", kYaml},
          {"logo.png", "\x89PNG\r\n"},
          {"terms.md", "Be kind.\n"},
          {"overview.md", "Iris flowers, three species.\n"},
          {"pages/", ""},
          {"pages/evaluation.md", "Accuracy on the hidden labels.\n"},
          {"scoring_program.zip", Zip({{"metadata",
                                        "command: python3 $program/score.py $input $output\n"
                                        "description: accuracy and errors\n"},
                                       {"score.py", kScoreProgram}})},
          {"reference_data.zip", Zip({{"labels.csv", kLabels}})}};
}

// Replaces (or adds) an entry.
std::vector<Entry> With(std::vector<Entry> entries, Entry e) {
  for (auto& x : entries) {
    if (x.name == e.name) {
      x = std::move(e);
      return entries;
    }
  }
  entries.push_back(std::move(e));
  return entries;
}
std::vector<Entry> Without(std::vector<Entry> entries, const std::string& name) {
  std::erase_if(entries, [&](const Entry& e) { return e.name == name; });
  return entries;
}

class BundleTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/openlab-bundle-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  StatusOr<Bundle> Read(const std::vector<Entry>& entries, const BundleLimits& limits = {}) {
    std::string path = tmp_ + "/bundle" + std::to_string(++n_) + ".zip";
    std::ofstream(path, std::ios::binary) << Zip(entries);
    return ReadBundle(path, tmp_ + "/x" + std::to_string(n_), limits);
  }
  std::string Refused(const std::vector<Entry>& entries, const BundleLimits& limits = {}) {
    auto b = Read(entries, limits);
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << b.status().ToString();
    return b.status().message();
  }

  std::string tmp_;
  int n_ = 0;
};

TEST_F(BundleTest, ReadsACodabenchV2Bundle) {
  auto b = Read(GoodBundle());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->title, "Iris species");
  EXPECT_EQ(b->summary, "Classify iris flowers by species");
  EXPECT_EQ(b->docker_image, "codalab/codalab-legacy:py3");
  EXPECT_EQ(b->description,
            "# Overview\n\nIris flowers, three species.\n\n\n# Evaluation\n\nAccuracy on the "
            "hidden labels.\n");
  ASSERT_EQ(b->pages.size(), 2u);
  EXPECT_EQ(b->pages[1].file, "pages/evaluation.md");
  EXPECT_THAT(b->not_imported, ElementsAre("image", "registration_auto_approve", "terms"));

  ASSERT_EQ(b->phases.size(), 2u);
  const Phase& dev = b->phases[0];
  EXPECT_EQ(dev.name, "Development");
  EXPECT_EQ(dev.start_ms, 1704067200000);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(dev.end_ms, 1719748800000);    // 2024-06-30T12:00:00Z
  EXPECT_EQ(dev.max_submissions_per_day, 5);
  EXPECT_EQ(dev.max_submissions, 100);
  EXPECT_EQ(dev.execution_time_limit_seconds, 600);
  EXPECT_THAT(dev.task_indexes, ElementsAre(0));
  const Phase& final = b->phases[1];
  EXPECT_EQ(final.start_ms, 1719759600000);  // 2024-07-01T00:00:00+09:00
  EXPECT_FALSE(final.end_ms.has_value());
  EXPECT_FALSE(final.max_submissions_per_day.has_value());

  ASSERT_EQ(b->tasks.size(), 1u);
  const Task& t = b->tasks[0];
  EXPECT_EQ(t.name, "Iris species");
  EXPECT_EQ(t.scoring_program_dir, tmp_ + "/x1/tasks/0/scoring_program");
  EXPECT_EQ(t.reference_data_dir, tmp_ + "/x1/tasks/0/reference_data");
  EXPECT_EQ(t.ingestion_program_dir, "");
  EXPECT_FALSE(t.ingestion.has_value());
  EXPECT_EQ(t.scoring.description, "accuracy and errors");
  EXPECT_THAT(t.scoring.words,
              ElementsAre("python3", "${program}/score.py", "${input}", "${output}"));
  EXPECT_EQ(ReadFile(t.reference_data_dir + "/labels.csv"), kLabels);
  EXPECT_EQ(ReadFile(t.scoring_program_dir + "/score.py"), kScoreProgram);
  // Nothing else was left in the extraction folder.
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(tmp_ + "/x1")) top.push_back(e.path().filename());
  EXPECT_THAT(top, ElementsAre("tasks"));

  ASSERT_EQ(b->leaderboards.size(), 1u);
  const Leaderboard& lb = b->leaderboards[0];
  EXPECT_EQ(lb.key, "main");
  EXPECT_EQ(lb.title, "Results");
  ASSERT_EQ(lb.columns.size(), 2u);
  EXPECT_EQ(lb.columns[0].key, "accuracy");
  EXPECT_EQ(lb.columns[0].title, "Accuracy");
  EXPECT_TRUE(lb.columns[0].higher_is_better);
  EXPECT_EQ(lb.columns[1].key, "errors");
  EXPECT_FALSE(lb.columns[1].higher_is_better);
}

TEST_F(BundleTest, ItsScoringProgramScoresPredictionsInTheSandbox) {
  if (SupervisorBin().empty()) {
    GTEST_SKIP() << "set OPENLAB_SUPERVISOR_BIN to an openlab-supervise binary";
  }
  auto b = Read(GoodBundle());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const Task& t = b->tasks[0];
  fs::create_directories(tmp_ + "/predictions");
  std::ofstream(tmp_ + "/predictions/predictions.csv")
      << "id,label\n1,setosa\n2,virginica\n3,virginica\n4,setosa\n5,versicolor\n";

  runner::SandboxProgramRunner::Options o;
  o.supervisor_bin = SupervisorBin();
  o.root = tmp_ + "/runner";
  if (geteuid() == 0) o.uid = o.gid = 61236;
  auto r = runner::SandboxProgramRunner::Create(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  runner::SandboxProgramRunner& programs = **r;
  std::string root = programs.LayoutRoot("score-1");
  auto argv = runner::ExpandCommand(
      t.scoring, {root + "/program", root + "/input", root + "/output", ""}, "scoring_program");
  ASSERT_TRUE(argv.ok()) << argv.status().ToString();
  auto exe = runner::ResolveProgram(
      (*argv)[0], [](const std::string& p) { return access(p.c_str(), X_OK) == 0; });
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  (*argv)[0] = *exe;
  runner::ProgramSpec spec;
  spec.run_id = "score-1";
  spec.argv = *argv;
  spec.env = {{"PATH", "/usr/bin:/bin"}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  spec.inputs = {{t.scoring_program_dir, "program"},
                 {t.reference_data_dir, "input/ref"},
                 {tmp_ + "/predictions", "input/res"}};
  spec.time_limit_seconds = *b->phases[0].execution_time_limit_seconds;
  auto result = programs.Run(spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString()
                           << "\nthis machine: " << compute::ProbeSandbox().Describe();
  ASSERT_TRUE(result->succeeded()) << result->detail << "\n" << result->stderr_tail;
  auto scores = runner::ScoresFromOutput(result->output_files);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_THAT(*scores, UnorderedElementsAre(Pair("accuracy", 0.6), Pair("errors", 2.0)));
  // Every leaderboard column is among the scores.
  for (const Column& c : b->leaderboards[0].columns) EXPECT_EQ(scores->count(c.key), 1u) << c.key;
}

TEST_F(BundleTest, FoldersTopFoldersAndIngestionPrograms) {
  std::string yaml = kYaml;
  yaml.replace(yaml.find("scoring_program: scoring_program.zip"),
               std::string("scoring_program: scoring_program.zip").size(),
               "scoring_program: ./scoring/\n    ingestion_program: ingestion.zip");
  std::vector<Entry> entries;
  for (Entry e : Without(GoodBundle(), "scoring_program.zip")) {
    if (e.name == "competition.yaml") e.content = yaml;
    e.name = "iris/" + e.name;
    entries.push_back(std::move(e));
  }
  entries.push_back(
      {"iris/scoring/metadata", "command: python3 $program/score.py $input $output\n"});
  entries.push_back({"iris/scoring/score.py", kScoreProgram});
  // A zip of the program's folder rather than of its contents.
  entries.push_back(
      {"iris/ingestion.zip",
       Zip({{"ingest/", ""},
            {"ingest/metadata", "command: python3 $program/ingest.py $input $output $shared\n"},
            {"ingest/ingest.py", "pass\n"}})});
  auto b = Read(entries);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const Task& t = b->tasks[0];
  EXPECT_EQ(ReadFile(t.scoring_program_dir + "/score.py"), kScoreProgram);
  EXPECT_EQ(t.ingestion_program_dir, tmp_ + "/x1/tasks/0/ingestion_program/ingest");
  ASSERT_TRUE(t.ingestion.has_value());
  EXPECT_THAT(t.ingestion->words,
              ElementsAre("python3", "${program}/ingest.py", "${input}", "${output}", "${shared}"));
}

TEST_F(BundleTest, PathsLeavingTheirFolderAreRefused) {
  EXPECT_EQ(Refused(With(GoodBundle(), {"../evil.txt", "x"})),
            "the bundle: member '../evil.txt' leaves its folder ('..')");
  EXPECT_EQ(Refused(With(GoodBundle(), {"pages/../../evil.txt", "x"})),
            "the bundle: member 'pages/../../evil.txt' leaves its folder ('..')");
  EXPECT_EQ(Refused(With(GoodBundle(), {"/etc/cron.d/evil", "x"})),
            "the bundle: member '/etc/cron.d/evil' is an absolute path");
  EXPECT_EQ(Refused(With(GoodBundle(), {"pages\\evil.md", "x"})),
            "the bundle: member 'pages\\evil.md' has a backslash in its name");
  EXPECT_EQ(Refused(With(GoodBundle(), {"overview.md", "/etc/shadow", S_IFLNK})),
            "the bundle: member 'overview.md' is a symbolic link");
  EXPECT_EQ(Refused(With(GoodBundle(), {"fifo", "", S_IFIFO})),
            "the bundle: member 'fifo' is a special file");
  // The same inside the zips the bundle holds.
  EXPECT_EQ(Refused(With(GoodBundle(), {"reference_data.zip",
                                        Zip({{"labels.csv", kLabels}, {"../../escape", "x"}})})),
            "reference_data.zip: member '../../escape' leaves its folder ('..')");
  EXPECT_EQ(Refused(With(GoodBundle(),
                         {"reference_data.zip", Zip({{"labels.csv", "/etc/passwd", S_IFLNK}})})),
            "reference_data.zip: member 'labels.csv' is a symbolic link");
  EXPECT_FALSE(fs::exists(tmp_ + "/escape"));
  EXPECT_FALSE(fs::exists(tmp_ + "/evil.txt"));
}

TEST_F(BundleTest, ZipBombsAndTooManyFilesAreRefused) {
  std::string zeros(4 << 20, '\0');
  auto bomb = With(GoodBundle(), {"reference_data.zip", Zip({{"labels.csv", zeros}})});
  BundleLimits tight;
  tight.max_ratio = 100;
  EXPECT_EQ(Refused(bomb, tight),
            "reference_data.zip: member 'labels.csv' expands more than 100 times (a zip bomb?): "
            "refused");
  BundleLimits small;
  small.max_total_bytes = 1 << 20;
  EXPECT_EQ(Refused(bomb, small),
            "the bundle expands to more than 1048576 bytes (at reference_data.zip): refused");
  BundleLimits few;
  few.max_files = 2;
  EXPECT_EQ(Refused(GoodBundle(), few),
            "the bundle holds more than 2 files and folders (at reference_data.zip): refused");
  // Within the limits, the same bundle reads.
  BundleLimits enough;
  enough.max_total_bytes = 8 << 20;
  enough.max_ratio = 100000;
  auto b = Read(bomb, enough);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(fs::file_size(b->tasks[0].reference_data_dir + "/labels.csv"), zeros.size());
}

TEST_F(BundleTest, MissingOrBadProgramsAreRefused) {
  EXPECT_EQ(Refused(Without(GoodBundle(), "scoring_program.zip")),
            "tasks[0].scoring_program: 'scoring_program.zip' is not in the bundle");
  EXPECT_EQ(Refused(With(GoodBundle(), {"scoring_program.zip", Zip({{"score.py", "pass\n"}})})),
            "tasks[0].scoring_program: 'scoring_program.zip' has no metadata file at its root");
  EXPECT_EQ(
      Refused(With(GoodBundle(),
                   {"scoring_program.zip",
                    Zip({{"metadata", "command: python3 $program/s.py $hidden $output\n"}})})),
      "scoring_program.zip/metadata line 1: unknown variable $hidden: openlab gives "
      "$program, $input, $output, $shared, $ingestion_program and $submission_program");
  EXPECT_EQ(Refused(With(GoodBundle(), {"scoring_program.zip", "not a zip"})),
            "tasks[0].scoring_program: scoring_program.zip: not a readable zip file (Not a zip "
            "archive)");
  EXPECT_EQ(Refused(Without(GoodBundle(), "pages/evaluation.md")),
            "pages[1].file: 'pages/evaluation.md' is not in the bundle");
  EXPECT_EQ(Refused(Without(GoodBundle(), "competition.yaml")),
            "the bundle has no competition.yaml at its root");
}

TEST_F(BundleTest, TheExtractionFolderMustBeEmpty) {
  std::string path = tmp_ + "/b.zip";
  std::ofstream(path, std::ios::binary) << Zip(GoodBundle());
  fs::create_directories(tmp_ + "/used");
  std::ofstream(tmp_ + "/used/file") << "x";
  auto b = ReadBundle(path, tmp_ + "/used");
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b.status().message(), tmp_ + "/used is not an empty folder");
  b = ReadBundle(tmp_ + "/none.zip", tmp_ + "/x");
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(b.status().message(), HasSubstr("the bundle: not a readable zip file"));
}

// --- competition.yaml alone --------------------------------------------------------------------

std::string YamlError(const std::string& yaml) {
  auto s = ParseCompetitionYaml(yaml);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << s.status().ToString();
  return s.status().message();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(CompetitionYaml, RefusesWhatIsNotCodabenchV2) {
  EXPECT_EQ(YamlError(Replace(kYaml, "version: 2", "version: 1.5")),
            "competition.yaml line 1: version: '1.5' is not 2: openlab imports Codabench v2 "
            "bundles");
  EXPECT_EQ(YamlError("title: Old\nhtml:\n  overview: overview.html\nleaderboard: {}\n"),
            "competition.yaml: a CodaLab v1.5 bundle (html, leaderboard): openlab imports "
            "Codabench v2 bundles (version: 2)");
  EXPECT_EQ(YamlError(Replace(kYaml, "start: 2024-01-01", "start: 1-1-2024")),
            "competition.yaml line 17: phases[0].start: '1-1-2024' is not a date (write "
            "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], UTC unless an offset such as +09:00 follows)");
  EXPECT_EQ(YamlError(Replace(kYaml, "start: 2024-01-01", "start: 2024-02-30")),
            "competition.yaml line 17: phases[0].start: '2024-02-30' is not a date (write "
            "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], UTC unless an offset such as +09:00 follows)");
  EXPECT_EQ(YamlError(Replace(kYaml, "end: 2024-06-30 12:00", "end: 2023-12-31")),
            "competition.yaml line 18: phases[0].end: the phase ends before it starts");
  EXPECT_EQ(YamlError(Replace(kYaml, "    tasks: [0]", "    tasks: [3]")),
            "competition.yaml line 27: phases[1].tasks: task index 3 is not among the tasks");
  EXPECT_EQ(YamlError(Replace(kYaml, "    tasks: [0]", "    tasks: [7a5b-uuid]")),
            "competition.yaml line 27: phases[1].tasks[0]: '7a5b-uuid' is not a task index (a "
            "Codabench server's task key is not imported: the task must be in the bundle)");
  EXPECT_EQ(YamlError(Replace(kYaml, "  - index: 0\n    name: Iris species",
                              "  - key: 7a5b-uuid\n    name: Iris species")),
            "competition.yaml line 29: tasks[0]: a task given by a Codabench server's key: "
            "openlab imports only tasks whose programs and data are in the bundle");
  EXPECT_EQ(YamlError(Replace(kYaml, "sorting: asc", "sorting: up")),
            "competition.yaml line 42: leaderboards[0].columns[0].sorting: 'up' is neither asc "
            "nor desc");
  EXPECT_EQ(YamlError(Replace(kYaml, "key: errors", "key: accuracy")),
            "competition.yaml line 44: leaderboards[0].columns[1].key: column key 'accuracy' "
            "appears twice");
  EXPECT_EQ(YamlError(Replace(kYaml, "max_submissions: 100", "max_submissions: many")),
            "competition.yaml line 20: phases[0].max_submissions: 'many' is not a whole number");
  EXPECT_EQ(YamlError(Replace(kYaml, "    scoring_program: scoring_program.zip\n", "")),
            "competition.yaml line 29: tasks[0].scoring_program: missing");
  EXPECT_EQ(YamlError(Replace(kYaml, "scoring_program: scoring_program.zip",
                              "scoring_program: ../scoring_program.zip")),
            "competition.yaml line 32: tasks[0].scoring_program: '../scoring_program.zip' is not "
            "a path inside the bundle (relative, no '..')");
  EXPECT_EQ(YamlError(Replace(kYaml, "title: Iris species\n", "title: Iris species\ntitle: x\n")),
            "competition.yaml line 3: the document: 'title' appears twice");
  EXPECT_EQ(YamlError("version: 2\ntitle: [unclosed\n"),
            "competition.yaml line 3: end of sequence flow not found");
  EXPECT_EQ(YamlError("version: 2\ntitle: " + std::string(40, '[') + "\n"),
            "competition.yaml line 2: nested more than 32 levels deep");
  EXPECT_EQ(YamlError("- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - x\n"),
            "competition.yaml line 1: nested more than 32 levels deep");
}

TEST(CompetitionYaml, FlowStyleAndDefaults) {
  auto s = ParseCompetitionYaml(
      "version: 2\ntitle: Minimal\nphases:\n"
      "  - {index: 0, name: Only, start: 2025-01-01 08:30:00Z, tasks: [0]}\n"
      "tasks:\n  - {index: 0, name: T, scoring_program: ./prog/}\n"
      "leaderboards:\n  - title: R\n    columns:\n      - {key: a}\n"
      "      - {key: b, sorting: asc}\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->phases[0].start_ms, 1735720200000);  // 2025-01-01T08:30:00Z
  EXPECT_EQ(s->tasks[0].scoring_program, "prog");
  EXPECT_EQ(s->tasks[0].reference_data, "");
  const Leaderboard& lb = s->leaderboards[0];
  EXPECT_EQ(lb.key, "leaderboard0");
  ASSERT_EQ(lb.columns.size(), 2u);
  EXPECT_EQ(lb.columns[0].title, "a");  // a column without a title shows its key
  EXPECT_EQ(lb.columns[0].index, 0);
  EXPECT_TRUE(lb.columns[0].higher_is_better);
  EXPECT_EQ(lb.columns[1].index, 1);
  EXPECT_FALSE(lb.columns[1].higher_is_better);
  EXPECT_TRUE(s->not_imported.empty());
}

TEST(CompetitionYaml, ComputedColumnsNameTheirSources) {
  std::string yaml = Replace(kYaml, "        sorting: desc\n",
                             "        sorting: desc\n"
                             "      - title: Best\n        key: best\n        index: 2\n"
                             "        computation: max\n        computation_indexes: [0, 1]\n");
  auto s = ParseCompetitionYaml(yaml);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Column& best = s->leaderboards[0].columns[2];
  EXPECT_EQ(best.computation, "max");
  EXPECT_THAT(best.computation_keys, ElementsAre("accuracy", "errors"));
  EXPECT_EQ(YamlError(Replace(yaml, "computation_indexes: [0, 1]", "computation_indexes: [0, 9]")),
            "competition.yaml line 35: leaderboards[0]: column 'best' computes from index 9, which "
            "is not another plain column of this leaderboard");
}

}  // namespace
}  // namespace openlab::validation::bundle
