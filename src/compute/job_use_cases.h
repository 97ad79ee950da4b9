// What people do with jobs: submit, cancel, read their output. Plain functions over a store
// transaction, each returning the specific error a caller shows; the HTTP handlers
// (compute/api/jobs_routes.cc) only parse the request, ask the policy what needs the request
// (passing the answer in), call one of these and render. Nothing here knows HTTP.
//
// The rules they apply: a job's states and transitions are compute/ledger/job_state.h; its checks
// and records compute/ledger/jobs.h; the datasets a job reads, and sealed jobs,
// data/inputs/job_inputs.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "compute/ledger/jobs.h"
#include "store/db.h"

namespace openlab::compute {

// ---- submit

// A dataset a job reads, as the submitter named it.
struct DataInputRef {
  std::string dataset;
  std::string version;  // a tag, a version id or a unique prefix; "" = the latest
  std::string as;       // the input's name in the job ($OPENLAB_DATA_<AS>)
};

struct SubmitRequest {
  Job job;              // as asked: project_id, user_id, name, command or script, resources...
  int array_count = 1;  // n > 1: an array of n jobs (array_index 0..n-1)
  // The datasets to read, in the request's order. An entry the caller could not read carries
  // why; SubmitJobs returns that error when it reaches the entry, so errors come in the order
  // of the request.
  std::vector<StatusOr<DataInputRef>> data;
  // The policy's answer for reading data in jobs (action jobs.data: a job reads the bytes for
  // its submitter, so the token needs the data scope too): Ok, or the refusal returned when
  // `data` is not empty.
  Status data_access;
};

// Submits the job (or array) for `req.job.user_id` at `now`. In order: ValidateJob against
// `limits` (InvalidArgument); when `data` is not empty, `data_access`, then each input
// checked and pinned to a version (data::AuthorizeJobInput: its error), then the inputs
// together (data::CheckJobInputs); a depends_on that is not a job of the project
// (InvalidArgument); a job that no active allocation of the project could ever cover (resources
// x time limit: Conflict of kind allocation-exhausted). Then the jobs are inserted queued, with
// their inputs; returns their ids (the first is an array's parent).
StatusOr<std::vector<std::string>> SubmitJobs(store::Tx& tx, const SubmitRequest& req,
                                              const JobLimits& limits, int64_t now);

// ---- cancel

// Cancels job `job_id` at `now`, as CancelEffectOf (job_state.h) decides: one that has not
// started is cancelled at once (reason "cancelled before it started"); one that has is marked
// "CancelRequested", and the compute service stops it and settles its charge. Conflict when it
// has already ended; NotFound when there is no such job; Aborted when it changed meanwhile.
// Returns the job as stored afterwards.
StatusOr<Job> CancelJob(store::Tx& tx, const std::string& job_id, int64_t now);

// ---- output

enum class LogStream { kStdout, kStderr };

// The job whose output a caller asks for, if it may be read: a sealed job's output
// (data/inputs/job_inputs.h) leaves only through an export request, so PermissionDenied (naming the
// export route) unless `may_read_sealed` (the policy's answer for jobs.sealed_logs). NotFound
// when there is no such job.
StatusOr<Job> JobForLogs(store::Tx& tx, const std::string& job_id, bool may_read_sealed);

// Up to `limit` bytes of the job's `stream` from byte `offset`, from the directory of its latest
// run under `jobs_root` (LatestJobDir). The file is opened beneath `jobs_root` without following a
// symbolic link (neither the run's directory nor the file) and read only if it is a regular
// file; a missing or unreadable file (the job has not written yet), any other kind of file and
// an empty `jobs_root` read as no bytes. REQUIRES: 0 <= offset, 0 <= limit.
std::string ReadJobLog(const std::string& jobs_root, const std::string& job_id, LogStream stream,
                       int64_t offset, int64_t limit);

// For a caller following a job's output: returns once the job's `stream` holds more than
// `offset` bytes, the job has ended (asked of `db` about once a second), or `deadline` has
// passed, whichever comes first. Looks at the file every 100 ms; holds no transaction between.
void WaitForJobLog(store::Database& db, const std::string& jobs_root, const std::string& job_id,
                   LogStream stream, int64_t offset,
                   std::chrono::steady_clock::time_point deadline);

}  // namespace openlab::compute
