// The metadata and scores parsers (codabench_program.h): what they accept, and the exact error
// for each thing they refuse.
#include "validation/runner/codabench_program.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string_view>

namespace openlab::validation::runner {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::string ErrorOf(const Status& s) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  return s.message();
}
template <typename T>
std::string ErrorOf(const StatusOr<T>& s) {
  EXPECT_FALSE(s.ok());
  return ErrorOf(s.status());
}

const ProgramDirs kDirs = {"/box/program", "/box/input", "/box/output", "/box/shared"};

TEST(ProgramMetadata, ReadsCommandAndDescription) {
  auto m = ParseProgramMetadata(
      "# scoring\ncommand: python3 $program/score.py $input $output\n"
      "description: Accuracy on the hidden labels\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->command, "python3 $program/score.py $input $output");
  EXPECT_EQ(m->description, "Accuracy on the hidden labels");
  auto argv = ExpandCommand(*m, kDirs);
  ASSERT_TRUE(argv.ok()) << argv.status().ToString();
  EXPECT_THAT(*argv, ElementsAre("python3", "/box/program/score.py", "/box/input", "/box/output"));
}

TEST(ProgramMetadata, QuotesBracesAndCarriageReturns) {
  auto m = ParseProgramMetadata(
      "command: \"python3 ${program}/run.py --out=${output}/x 'two words' a\\\\ b\"\r\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto argv = ExpandCommand(*m, kDirs);
  ASSERT_TRUE(argv.ok()) << argv.status().ToString();
  EXPECT_THAT(*argv, ElementsAre("python3", "/box/program/run.py", "--out=/box/output/x",
                                 "two words", "a b"));
  // An empty argument in quotes is kept; the shared directory for ingestion programs.
  m = ParseProgramMetadata("command: /usr/bin/env '' $shared\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_THAT(*ExpandCommand(*m, kDirs), ElementsAre("/usr/bin/env", "", "/box/shared"));
}

TEST(ProgramMetadata, RefusesWhatItDoesNotKnow) {
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 $program/x.py $hidden\n")),
            "metadata line 1: unknown variable $hidden: openlab gives $program, $input, $output, "
            "$shared, $ingestion_program and $submission_program");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 x.py\nimage: foo\n", "prog/metadata")),
            "prog/metadata line 2: unknown key 'image': openlab reads only command and "
            "description");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("description: x\n")), "metadata: no 'command:' line");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: a\ncommand: b\n")),
            "metadata line 2: a second command");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command:\n")), "metadata line 1: the command is empty");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("just words\n")),
            "metadata line 1: expected 'key: value'");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: |\n  python3 x.py\n")),
            "metadata line 1: a multi-line value: write the value on the key's line");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: a\n  b: c\n")),
            "metadata line 2: an indented line: write each key on one line of its own");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: 'python3 x.py\n")),
            "metadata line 1: an unclosed ' quote");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 $1\n")),
            "metadata line 1: '$1' is not a variable: openlab gives $program, $input, $output, "
            "$shared, $ingestion_program and $submission_program (a '$' always starts one)");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 ${program\n")),
            "metadata line 1: '${' without its '}'");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata(std::string(kMaxMetadataBytes + 1, '#'))),
            "metadata: larger than 65536 bytes");
}

TEST(ProgramMetadata, RefusesShellSyntax) {
  auto refused = [](std::string_view what) {
    return fmt::format(
        "metadata line 1: {} is refused: openlab runs the command directly, without a shell", what);
  };
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 a.py | tee log\n")), refused("'|'"));
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: cd $program; python3 a.py\n")), refused("';'"));
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 a.py > $output/log\n")), refused("'>'"));
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 a.py && true\n")), refused("'&'"));
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 \"`id`\"\n")), refused("'`'"));
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 $(id)\n")),
            "metadata line 1: command substitution '$(' is refused: openlab runs the command "
            "without a shell");
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 $input/*.csv\n")), refused("'*'"));
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 a.py # note\n")),
            refused("a comment ('#')"));
  // Quoted, the same characters are plain text.
  auto m = ParseProgramMetadata("command: python3 a.py 'x|y;z>w' \"*\"\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_THAT(m->words, ElementsAre("python3", "a.py", "x|y;z>w", "*"));
}

// Regression (fuzz_codabench, fuzz/corpus/codabench/escaped-dollar-brace): an escaped '$' made
// a literal "${n..." in a word that ExpandCommand then read as a variable, so a command that
// parsed did not expand.
TEST(ProgramMetadata, RefusesAnEscapedDollar) {
  const std::string want =
      "metadata line 1: an escaped '$' is refused: a '$' always starts a variable ($program, "
      "$input, $output, $shared, $ingestion_program and $submission_program)";
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 \\${name}\n")), want);
  EXPECT_EQ(ErrorOf(ParseProgramMetadata("command: python3 \"a \\${n}\" $input\n")), want);
}

// An ingestion program written for Codabench (its legacy names for the folders).
TEST(ProgramMetadata, ExpandsCodabenchsIngestionNames) {
  auto m = ParseProgramMetadata(
      "command: python3 $ingestion_program/ingestion.py $input $output $ingestion_program "
      "${submission_program}\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ProgramDirs dirs = kDirs;
  dirs.submission = "/box/submission";
  EXPECT_THAT(*ExpandCommand(*m, dirs),
              ElementsAre("python3", "/box/program/ingestion.py", "/box/input", "/box/output",
                          "/box/program", "/box/submission"));
  // A scoring program is given no submission program to run.
  EXPECT_EQ(ErrorOf(ExpandCommand(*m, kDirs, "scoring_program/metadata")),
            "scoring_program/metadata: the command uses $submission_program, which this program "
            "is not given");
}

TEST(ProgramMetadata, ExpandRefusesAVariableWithoutADirectory) {
  auto m = ParseProgramMetadata("command: python3 $program/ingest.py $shared\n");
  ASSERT_TRUE(m.ok());
  ProgramDirs dirs = kDirs;
  dirs.shared.clear();
  EXPECT_EQ(ErrorOf(ExpandCommand(*m, dirs, "scoring_program/metadata")),
            "scoring_program/metadata: the command uses $shared, which this program is not given");
}

TEST(ProgramMetadata, ResolvesTheProgram) {
  std::set<std::string> present = {"/usr/bin/python3", "/bin/sh"};
  auto exists = [&](const std::string& p) { return present.count(p) > 0; };
  EXPECT_EQ(*ResolveProgram("python3", exists), "/usr/bin/python3");
  EXPECT_EQ(*ResolveProgram("python", exists), "/usr/bin/python3");
  EXPECT_EQ(*ResolveProgram("sh", exists), "/bin/sh");
  EXPECT_EQ(*ResolveProgram("/box/program/run", exists), "/box/program/run");
  EXPECT_EQ(ErrorOf(ResolveProgram("Rscript", exists)),
            "metadata: the command's program 'Rscript' is not installed here (looked in "
            "/usr/local/bin, /usr/bin and /bin)");
  EXPECT_EQ(ErrorOf(ResolveProgram("bin/run", exists)),
            "metadata: the command's program 'bin/run' is a relative path: write it from "
            "$program (e.g. $program/bin/run)");
}

TEST(Scores, JsonObjectOfFiniteNumbers) {
  auto s = ParseScoresJson(
      "{\n  \"accuracy\": 0.75,\n  \"f1\": 1,\n  \"loss\": -2.5e-3, \"caf\\u00e9\": 0}\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(*s, ElementsAre(Pair("accuracy", 0.75), Pair("caf\xc3\xa9", 0.0), Pair("f1", 1.0),
                              Pair("loss", -2.5e-3)));
  // What Python's json.dump writes, surrogate pairs included.
  s = ParseScoresJson("{\"\\ud83d\\ude00\": 1e-400}");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->begin()->first, "\xf0\x9f\x98\x80");
  EXPECT_EQ(s->begin()->second, 0.0);
}

TEST(Scores, JsonRefusalsNameTheLine) {
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\n\"a\": 1,\n\"b\": \"0.5\"\n}")),
            "scores.json line 3: the value of \"b\" is a string; scores are numbers");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": NaN}")),
            "scores.json line 1: the value of \"a\" is not a finite number (JSON has no NaN or "
            "Infinity)");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": -Infinity}")),
            "scores.json line 1: the value of \"a\" is not a finite number (JSON has no NaN or "
            "Infinity)");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": 1e999}")),
            "scores.json line 1: the value of \"a\" is not a finite number");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": 1,\n\"a\": 2}")),
            "scores.json line 2: \"a\" appears twice");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": null}")),
            "scores.json line 1: the value of \"a\" is null; scores are numbers");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": {\"b\": 1}}")),
            "scores.json line 1: the value of \"a\" is an object; scores are numbers");
  EXPECT_EQ(ErrorOf(ParseScoresJson("[1, 2]")),
            "scores.json line 1: expected '{': scores.json holds one JSON object");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{}")), "scores.json: holds no scores");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": 1} x")), "scores.json line 1: text after the object");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": 01}")), "scores.json line 1: expected ',' or '}'");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\": 1,")),
            "scores.json line 1: expected a key in double quotes (the file ends)");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"\": 1}")), "scores.json line 1: an empty key");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"\\ud800\": 1}")),
            "scores.json line 1: a lone high surrogate (\\u escape)");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"\xff\": 1}")),
            "scores.json line 1: a key that is not UTF-8");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"a\\tb\": 1}")),
            "scores.json line 1: a key with a control character");
  EXPECT_EQ(ErrorOf(ParseScoresJson("{\"" + std::string(129, 'k') + "\": 1}")),
            "scores.json line 1: a key longer than 128 bytes");
}

TEST(Scores, TxtLines) {
  auto s = ParseScoresTxt("set1_score: 0.85\r\n\nDuration : 12\nerr:-1e-2\nplus: +3.\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(*s, ElementsAre(Pair("Duration", 12.0), Pair("err", -0.01), Pair("plus", 3.0),
                              Pair("set1_score", 0.85)));
  EXPECT_EQ(ErrorOf(ParseScoresTxt("a: 1\nb: nan\n")),
            "scores.txt line 2: the value of \"b\" ('nan') is not a finite number");
  EXPECT_EQ(ErrorOf(ParseScoresTxt("a: 1\nb: 0x10\n")),
            "scores.txt line 2: the value of \"b\" ('0x10') is not a finite number");
  EXPECT_EQ(ErrorOf(ParseScoresTxt("a: 1e400\n")),
            "scores.txt line 1: the value of \"a\" ('1e400') is not a finite number");
  EXPECT_EQ(ErrorOf(ParseScoresTxt("a 1\n")), "scores.txt line 1: expected 'key: value'");
  EXPECT_EQ(ErrorOf(ParseScoresTxt("a: 1\na: 2\n")), "scores.txt line 2: \"a\" appears twice");
  EXPECT_EQ(ErrorOf(ParseScoresTxt(": 1\n")), "scores.txt line 1: an empty key");
  EXPECT_EQ(ErrorOf(ParseScoresTxt("a:\n")), "scores.txt line 1: \"a\" has no value");
  EXPECT_EQ(ErrorOf(ParseScoresTxt("\n\n")), "scores.txt: holds no scores");
}

TEST(Scores, ManyKeysAreCapped) {
  std::string txt;
  for (size_t i = 0; i <= kMaxScoreKeys; ++i) txt += "k" + std::to_string(i) + ": 1\n";
  EXPECT_EQ(ErrorOf(ParseScoresTxt(txt)), "scores.txt line 1001: more than 1000 scores");
}

TEST(Scores, FromOutputPrefersJson) {
  auto s = ScoresFromOutput({{"scores.json", "{\"a\": 1}"}, {"scores.txt", "a: 2\n"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->at("a"), 1.0);
  s = ScoresFromOutput({{"scores.txt", "a: 2\n"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->at("a"), 2.0);
  EXPECT_EQ(ErrorOf(ScoresFromOutput({{"log.txt", "x"}})),
            "the scoring program wrote neither scores.json nor scores.txt in its output directory");
}

}  // namespace
}  // namespace openlab::validation::runner
