// Codabench v2 competition bundles (docs/validation-programs.md): a zip holding competition.yaml
// (version 2), its pages, and per task the zips (or folders) of its scoring and ingestion
// programs and of its reference and input data. ReadBundle turns one into a plain Bundle, with
// each task's files extracted into a directory the caller gives, ready for ProgramRunner
// (validation/runner/program_runner.h).
//
// What is read (everything else is listed in Bundle::not_imported, by its path in the YAML):
//   title, description, docker_image (recorded, never used: programs run in openlab's sandbox
//   with the system's python3), pages (title, file), phases (index, name, description, start,
//   end, max_submissions_per_day, max_submissions, execution_time_limit, tasks), tasks (index,
//   name, description, scoring_program, ingestion_program, reference_data, input_data) and
//   leaderboards (title, key, columns: title, key, index, sorting, computation,
//   computation_indexes).
// Refused, with an error naming the YAML path (and line) or the member: a version other than 2
// (or a CodaLab v1.5 bundle), a task or phase given by a Codabench server's key instead of by
// the bundle's files, a file the YAML names that the bundle lacks, a program without a valid
// metadata file (codabench_program.h), and in any zip: absolute member names, ".." or empty
// components, backslashes, symbolic links and other special files, names twice, and more than
// the limits (a zip bomb: the sizes are counted as they are read, not taken from the headers).
//
// Errors: InvalidArgument for what the bundle holds (the message is for its author);
// FailedPrecondition for an extraction directory that is not empty; Internal for I/O here.
// Thread-safety: no state; one call per extraction directory at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "validation/runner/codabench_program.h"

namespace openlab::validation::bundle {

struct BundleLimits {
  int64_t max_yaml_bytes = 1 << 20;            // competition.yaml
  int64_t max_page_bytes = 1 << 20;            // each page
  int64_t max_total_bytes = int64_t{8} << 30;  // everything extracted, all together
  int64_t max_files = 100000;                  // files and folders extracted, all together
  int64_t max_ratio = 1000;                    // a member's size / its compressed size
  int64_t ratio_floor_bytes = 1 << 20;         // members smaller than this skip the ratio
};

struct Page {
  std::string title;
  std::string file;     // its path in the bundle
  std::string content;  // Markdown (or HTML, as the bundle gives it)
};

struct Phase {
  int64_t index = 0;
  std::string name;
  std::string description;
  int64_t start_ms = 0;           // UTC, epoch milliseconds
  std::optional<int64_t> end_ms;  // none: the phase never ends
  std::optional<int64_t> max_submissions_per_day;
  std::optional<int64_t> max_submissions;
  std::optional<int64_t> execution_time_limit_seconds;
  std::vector<int64_t> task_indexes;  // indexes of Bundle::tasks entries
};

// Where a task's parts were extracted: absolute directories, "" when the task has none.
struct Task {
  int64_t index = 0;
  std::string name;
  std::string description;
  std::string scoring_program_dir;    // always set: its metadata parsed into `scoring`
  std::string ingestion_program_dir;  // set only with `ingestion`
  std::string reference_data_dir;
  std::string input_data_dir;
  runner::ProgramMetadata scoring;
  std::optional<runner::ProgramMetadata> ingestion;
};

struct Column {
  std::string key;  // the scores file's key
  std::string title;
  int64_t index = 0;
  bool higher_is_better = true;  // sorting: desc (the default) -> true; asc -> false
  std::string computation;       // "" or sum, avg, min, max: computed from other columns
  std::vector<std::string> computation_keys;  // the keys of the columns it computes from
};

struct Leaderboard {
  std::string key;
  std::string title;
  std::vector<Column> columns;  // in index order
};

// competition.yaml as read, with the bundle paths it names (nothing opened yet).
struct CompetitionSpec {
  std::string title;
  std::string summary;       // its `description`
  std::string docker_image;  // recorded only
  struct PageRef {
    std::string title, file;
  };
  std::vector<PageRef> pages;
  std::vector<Phase> phases;
  struct TaskRef {
    int64_t index = 0;
    std::string name, description;
    std::string scoring_program, ingestion_program, reference_data, input_data;  // "" none
  };
  std::vector<TaskRef> tasks;
  std::vector<Leaderboard> leaderboards;
  std::vector<std::string> not_imported;  // YAML paths present but not read, e.g. "image"
};

// Parses competition.yaml (pure). Errors name the YAML path and line, e.g.
// "competition.yaml line 12: phases[0].start: '1-1-2019' is not a date (...)".
StatusOr<CompetitionSpec> ParseCompetitionYaml(std::string_view text,
                                               const BundleLimits& limits = {});

struct Bundle {
  std::string title;
  std::string summary;      // competition.yaml's description
  std::string description;  // the pages' contents, in order, each under a "# <title>" heading
  std::string docker_image;
  std::vector<Page> pages;
  std::vector<Phase> phases;
  std::vector<Task> tasks;
  std::vector<Leaderboard> leaderboards;
  std::vector<std::string> not_imported;
};

// Reads the bundle at `zip_path`; extracts each task's parts into
// `extract_dir`/tasks/<index>/{scoring_program,ingestion_program,reference_data,input_data}.
// REQUIRES: extract_dir is an absolute path; it is created if missing and must be empty.
StatusOr<Bundle> ReadBundle(const std::string& zip_path, const std::string& extract_dir,
                            const BundleLimits& limits = {});

}  // namespace openlab::validation::bundle
