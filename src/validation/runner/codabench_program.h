// Organisers' programs in Codabench's layout (docs/validation-programs.md): the `metadata` file of
// a scoring or ingestion program, and the scores file a scoring program writes. Pure functions
// over text: no I/O, no process; ProgramRunner (program_runner.h) runs what they describe.
//
// A program directory holds a `metadata` file of `key: value` lines:
//   command: python3 $program/score.py $input $output
//   description: accuracy on the hidden labels
// `command` is required; `description` is optional; any other key is refused (openlab would
// otherwise ignore something the organiser meant). The command is split into words (single and
// double quotes group, a backslash escapes the next character) and run directly, without a
// shell: pipes, redirections, `;`, `&`, backquotes and `$(...)` are refused. The variables
// $program, $input, $output and $shared (also written ${program}, ...), and for an ingestion
// program Codabench's $ingestion_program (its own folder, as $program) and $submission_program
// (the participant's code), are replaced by the directories the program sees; any other `$name`
// is refused, naming it.
//
// A scoring program writes its scores into its output directory, as scores.json (one JSON object
// whose values are finite numbers) or scores.txt (lines `key: value`, value a finite number).
// Keys are 1-128 bytes of UTF-8 without control characters, each at most once, at most 1,000 of
// them; they become the leaderboard's columns.
//
// Every error is InvalidArgument and names the file and the line ("metadata line 3: ..."), so an
// organiser can act on it. Thread-safe (no state).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab::validation::runner {

// The most a metadata or scores file may hold; larger files are refused unread.
inline constexpr size_t kMaxMetadataBytes = 64 * 1024;
inline constexpr size_t kMaxScoresBytes = 1024 * 1024;
inline constexpr size_t kMaxScoreKeys = 1000;
inline constexpr size_t kMaxScoreKeyBytes = 128;

struct ProgramMetadata {
  std::string command;      // as written, quotes removed around the whole value
  std::string description;  // "" when absent
  // The command's words before substitution (variables still in them), argv[0] first.
  std::vector<std::string> words;
};

// Parses a metadata file. `file` names it in errors (e.g. "scoring_program/metadata").
StatusOr<ProgramMetadata> ParseProgramMetadata(std::string_view text,
                                               std::string_view file = "metadata");

// The directories a program sees, as paths inside its sandbox ("" for one it is not given).
struct ProgramDirs {
  std::string program;  // also $ingestion_program
  std::string input;
  std::string output;
  std::string shared;
  std::string submission;  // $submission_program: the code an ingestion program runs
};

// The command's words with every variable replaced. InvalidArgument (naming `file`) for a
// variable that names no directory here (an empty ProgramDirs field).
StatusOr<std::vector<std::string>> ExpandCommand(const ProgramMetadata& metadata,
                                                 const ProgramDirs& dirs,
                                                 std::string_view file = "metadata");

// argv[0] as an absolute path: kept when it is one; otherwise the first of /usr/local/bin,
// /usr/bin and /bin where `is_executable` says it exists. "python", which Debian does not ship,
// becomes python3 (Codabench's own image has it; organisers' commands often say "python").
// InvalidArgument naming `file` when nothing is found, or for a relative path with a '/'.
StatusOr<std::string> ResolveProgram(const std::string& word,
                                     const std::function<bool(const std::string&)>& is_executable,
                                     std::string_view file = "metadata");

// Scores by key, in key order.
using ScoreMap = std::map<std::string, double>;

// scores.json: one JSON object of finite numbers (no strings, null, booleans, arrays or nested
// objects; no duplicate key). `file` names it in errors.
StatusOr<ScoreMap> ParseScoresJson(std::string_view text, std::string_view file = "scores.json");

// scores.txt: lines `key: value`; blank lines are skipped; a value is a decimal number, finite.
StatusOr<ScoreMap> ParseScoresTxt(std::string_view text, std::string_view file = "scores.txt");

// The scores among a program's output files (relative path -> content): scores.json if present,
// else scores.txt. InvalidArgument when there is neither (saying so) or it does not parse.
StatusOr<ScoreMap> ScoresFromOutput(const std::map<std::string, std::string>& output_files);

}  // namespace openlab::validation::runner
