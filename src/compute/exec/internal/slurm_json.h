// What SlurmExecutor reads from Slurm's commands (sbatch --parsable, squeue --json, their errors),
// and how that maps onto ExecStatus. Pure functions (no I/O), so the tests can feed them canned
// output. Internal to src/compute/: no other folder may include this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "compute/exec/command_runner.h"
#include "compute/exec/executor.h"

namespace openlab::compute::internal {

// The fields of one job of `squeue --json` (Slurm 22.05: OpenAPI v0.0.38) that openlab uses.
struct SlurmJob {
  int64_t job_id = 0;
  std::string name;
  std::string state;  // job_state: "PENDING", "RUNNING", "COMPLETING", "COMPLETED", ...
  std::string state_reason;
  std::string comment;
  std::string partition;
  std::string nodes;
  std::string standard_output;           // the --output path
  std::optional<int> exit_code;          // the batch script's raw wait status (exit << 8 | signal)
  int64_t start_time = 0;                // epoch seconds; for a pending job, the expected start
  int64_t end_time = 0;                  // epoch seconds; for a running job, the expected end
  std::vector<std::string> gres_detail;  // e.g. {"gpu:2(IDX:0-1)"}
  std::string tres_per_node;             // e.g. "gres:gpu:2"
  std::string tres_alloc_str;            // e.g. "cpu=1,node=1,billing=1"
};

// Parses the document `squeue --json` prints. Unknown fields are ignored, and numbers may also
// come as {"set": true, "number": N} (as later OpenAPI versions write them).
// Unavailable when the document carries errors: squeue exits 0 with an `errors` list (and no
// jobs) when it cannot reach slurmctld. InvalidArgument when it is not a squeue document.
StatusOr<std::vector<SlurmJob>> ParseSqueueJson(std::string_view text);

// The ExecStatus a Slurm job record stands for. Mapping (Slurm's job_state -> ExecState):
//   PENDING, CONFIGURING, REQUEUED, REQUEUE_HOLD, REQUEUE_FED, RESV_DEL_HOLD, POWER_UP_NODE,
//     SPECIAL_EXIT                                     -> kPending
//   RUNNING, COMPLETING, SUSPENDED, STOPPED, SIGNALING, STAGE_OUT, RESIZING, UPDATE_DB
//                                                      -> kRunning
//   COMPLETED -> kCompleted;  FAILED, OUT_OF_MEMORY -> kFailed (with the exit status);
//   CANCELLED -> kCancelled;  TIMEOUT, DEADLINE -> kTimeout;
//   NODE_FAIL, BOOT_FAIL, PREEMPTED                    -> kNodeFail (the job was stopped for
//     reasons of the cluster, not its own: with --no-requeue Slurm will not run it again)
//   anything else                                      -> kRunning, with the state in `detail`
//     (not terminal, so nothing is decided on a state this code does not know).
// Exit status: the launcher reports a job killed by signal N as exit 128+N, as shells do, so an
// exit status of 129..192 is read as "killed by signal N" (exit_code -1, term_signal N).
// Times: started_at_ms only once the job started, ended_at_ms only when terminal.
ExecStatus ExecStatusFromSlurm(const SlurmJob& job);

// The job id that `sbatch --parsable` printed: "123" or "123;cluster". InvalidArgument if none.
StatusOr<int64_t> ParseSbatchParsable(std::string_view out);

// The error for a Slurm command (`what`, e.g. "sbatch") that did not succeed. Unavailable when
// Slurm could not be reached (timeout, connection refused or lost, munge down, no controller);
// for sbatch, InvalidArgument when Slurm refused the request itself ("Batch job submission
// failed: Requested node configuration is not available", ...); Internal otherwise.
Status SlurmCommandError(std::string_view what, const CommandResult& result, int timeout_ms);

// Maps the batch script's exit status as ExecStatusFromSlurm does (0 -> kCompleted, else kFailed;
// 129..192 -> killed by that signal).
void SetExitStatus(int exit_status, ExecStatus* status);

}  // namespace openlab::compute::internal
