// The scoring service: the worker that takes each waiting submission under a lease, scores it
// with the scorer (scorer.h) and records the result, so that no submission is ever stuck.
//
//   - every state change is one committed transaction (validation.h), with its event;
//   - a submission is scored under a lease (LeaseOptions) that a heartbeat renews while the
//     scorer works; a server that dies (SIGKILL, a lost machine) leaves a lease that expires, and
//     whichever scorer claims next takes the submission again; after max_attempts lost leases it
//     ends failed with that reason, and does not count;
//   - predictions that do not fit the truth end invalid, with the scorer's reason; a fault of the
//     centre (the truth unreadable, the file gone) ends failed: neither counts.
//
// The predictions files live under `files_root` (one file per submission, written and synced
// before the submission's record commits, never served back to anyone). The ground truth is read
// through `TruthReader` (the data commons' chunk store in the server; a map in tests), parsed
// once per phase and truth version, and kept in memory for the next submissions.
//
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "store/db.h"
#include "validation/runner/program_runner.h"
#include "validation/scorer.h"
#include "validation/validation.h"

namespace openlab::data {
class DataService;
}  // namespace openlab::data

namespace openlab::validation {

struct ScoringOptions {
  std::string files_root;  // where the submissions' files (and code runs' logs) are kept
  std::string work_root;   // where code submissions are unpacked to run ("" = files_root/work)
  LeaseOptions lease;
  int64_t idle_poll_ms = 2000;  // also looks for lost leases this often when nothing pokes it
  std::string owner;            // this scorer's lease name ("" = a fresh random one)
  int workers = 2;              // threads scoring at once (a code run holds one for its length)
  // Code submissions and organisers' scoring programs (task type "custom") run through `runner`
  // (in the sandbox, no network). `versions` gives the host directory holding a dataset
  // version's files (the phase's inputs for code; the truth and the program for a scoring
  // program), written once. Null runner: those submissions end failed, not counted.
  runner::ProgramRunner* runner = nullptr;
  std::function<StatusOr<std::string>(const std::string& dataset_id, const std::string& version_id)>
      versions;
};

class ScoringService {
 public:
  // The bytes of a phase's truth file.
  using TruthReader = std::function<StatusOr<std::string>(const Phase&)>;

  // `db` and `clock` must outlive the service. The thread starts with Start().
  ScoringService(store::Database* db, Clock* clock, TruthReader truth, ScoringOptions o);
  ~ScoringService();
  ScoringService(const ScoringService&) = delete;
  ScoringService& operator=(const ScoringService&) = delete;

  void Start();
  // Stops the threads; a code run or scoring program in progress is stopped, and its submission
  // left as it is (scoring, under a lease that expires): the next start takes it again.
  void Stop();
  // Something may wait now (a submission, a re-score): the thread looks at once.
  void Poke();

  // Scores what waits now in the calling thread until nothing does; returns how many ended
  // (scored, invalid or failed). The thread runs the same.
  StatusOr<int> Drain();

  // Stops the program running for a submission here (its code, its ingestion or scoring
  // program), if one is: called when it is cancelled, and by the scorer's heartbeat when it finds
  // the submission no longer leased to it.
  void StopRunOf(const std::string& submission_id);

  // The phase's truth, parsed (cached per phase and truth version).
  StatusOr<std::shared_ptr<const Truth>> TruthOf(const Benchmark& b, const Phase& p);
  // Reads and parses a phase's truth as a `task_type` task's, and checks it serves `metrics`
  // (scorer.h CheckTruthServes), for an organiser publishing or editing the phase (`p` pinned:
  // validation.h PinPhase): InvalidArgument saying what is wrong with it, naming the phase.
  Status CheckTruth(const std::string& task_type, const Phase& p,
                    const std::vector<std::string>& metrics);

  // A submission's predictions file: stored durably (temp, fsync, rename) before its record
  // commits; read back by the scorer; removed with its submission.
  Status StoreFile(const std::string& id, std::string_view bytes);
  StatusOr<std::string> ReadFile(const std::string& id) const;

  // What a code submission's run printed (the tails of its stdout and stderr, and how it ended);
  // NotFound before it ran.
  StatusOr<std::string> ReadLog(const std::string& id) const;

  // Removes what a crash left behind: under files_root, a submission's files (and .tmp files)
  // whose submission was never recorded (the server died, or the transaction failed, after the
  // file was stored), once older than `min_age` (a request in flight has stored its file but not
  // yet committed); under work_root, runs' scratch folders older than a day (no run lasts that
  // long). Start() has its first worker run it once, before it scores. Returns how many entries
  // it removed.
  StatusOr<int> SweepOrphans(std::chrono::seconds min_age = std::chrono::hours(1));

  const std::string& owner() const { return opts_.owner; }
  const ScoringOptions& options() const { return opts_; }

 private:
  // Scores one claimed submission; records how it ended.
  Status ScoreOne(const Submission& s);
  // Runs a code submission; its predictions file and format, or the state and reason it ends
  // with (`ended` set).
  struct CodeOutput {
    std::string format, bytes;                 // a built-in task's predictions file
    std::map<std::string, std::string> files;  // a custom task's: all the run wrote
    std::string end_state, reason;             // set when the run gave no predictions
  };
  StatusOr<CodeOutput> RunCode(const Submission& s, const Benchmark& b, const Phase& p);
  // Runs `spec` through the runner with the environment every program gets (PATH, HOME, LANG,
  // and what `spec.env` adds), then discards the run and `scratch` (the folder written for it)
  // and keeps the tails of its output, after `label`, as the file `log_name`.
  StatusOr<runner::ProgramResult> RunProgram(const std::string& submission_id,
                                             runner::ProgramSpec spec, const std::string& scratch,
                                             const std::string& log_name, const std::string& label);
  // Scores a submission with the phase's scoring program (task type "custom"), `res_files` being
  // its input/res: its scores by key, or the state and reason the submission ends with.
  struct ProgramScores {
    Scores scores;
    std::string end_state, reason;
  };
  StatusOr<ProgramScores> RunScoringProgram(const Submission& s, const Benchmark& b, const Phase& p,
                                            const std::map<std::string, std::string>& res_files);
  void Loop();
  bool Stopping() EXCLUDES(mu_);

  store::Database* db_;
  Clock* clock_;
  TruthReader truth_reader_;
  ScoringOptions opts_;

  Mutex mu_;
  CondVar cv_;
  bool poked_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;

  // The run in progress per submission (submission id -> run id), for StopRunOf.
  Mutex runs_mu_;
  std::map<std::string, std::string> active_runs_ GUARDED_BY(runs_mu_);

  Mutex cache_mu_;
  // Keyed by phase id and truth version id.
  std::map<std::string, std::shared_ptr<const Truth>> truths_ GUARDED_BY(cache_mu_);
};

// The truth reader of a server: the phase's truth file from the data commons' chunk store,
// every chunk verified as it is read. `data` must outlive the reader.
ScoringService::TruthReader TruthFromDataCommons(data::DataService* data);
// Dataset versions for programs: written out once under `dir` from the data commons (read-only
// files, every chunk verified; data/service.h Materialize) and shared by every run that reads
// them. `dir` is the server's own: a hidden truth written there never leaves (only a scoring
// program's sandbox sees it).
using VersionReader = std::function<StatusOr<std::string>(const std::string& dataset_id,
                                                          const std::string& version_id)>;
VersionReader VersionsFromDataCommons(data::DataService* data, const std::string& dir);

}  // namespace openlab::validation
