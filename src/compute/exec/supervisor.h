// The job supervisor: the small process that LocalExecutor starts, detached, for every job, so
// that jobs outlive a crash or restart of the server and can be re-adopted by it.
//
// It runs as `openlab-supervise supervise --detach JOB_DIR` (the binary links only the executor
// layer, so it starts fast; `openlab supervise` is the same, a hidden subcommand) and:
//   - reads JOB_DIR/spec.json (written by LocalExecutor::Launch);
//   - puts the job in its own cgroup v2 (cpu.max, memory.max) when the cgroup tree under the
//     configured root is writable, otherwise applies rlimits (RLIMIT_AS from memory_bytes, but
//     not for GPU jobs: CUDA reserves far more address space than it uses); the choice is
//     recorded in status.json;
//   - starts argv with execve in a new session / process group, with the job's environment
//     (compute/exec/executor.h JobEnvironment), workdir, stdin from /dev/null and stdout/stderr
//     appended to JOB_DIR/stdout and JOB_DIR/stderr;
//   - writes status.json (state running, its own pid and /proc start time) atomically;
//   - enforces the time limit and honours cancel requests (JOB_DIR/cancel + SIGTERM): SIGTERM to
//     the whole process tree, SIGKILL after grace_seconds;
//   - when the job's main process ends, kills whatever the job left behind (process group,
//     cgroup members, and every descendant: the supervisor is a child subreaper), writes the
//     final status.json, removes the cgroup and exits.
// A SIGTERM/SIGINT/SIGHUP without a cancel file (e.g. the node shutting down) stops the job the
// same way and ends in kNodeFail.
//
// The same code runs every Slurm job on its compute node (`openlab slurm-job JOB_DIR`, exec'd
// by SlurmExecutor's batch script; compute/exec/slurm_executor.h), so both executors have one
// launcher and one sandbox. There it differs only in what Slurm already does or decides:
//   - it runs in the foreground and exits with the job's status as a shell reports it (the exit
//     code, or 128+N for signal N; 127 when the job could not be started), so that Slurm's own
//     record of the job stays right;
//   - it writes status.json into JOB_DIR/node/ (the one place the job's uid may write);
//   - the time limit is Slurm's (--time); a SIGTERM from Slurm stops the job as above;
//   - no cgroups of its own (the batch step is in Slurm's); rlimits, as without cgroups;
//   - Slurm runs it as the project's uid (sbatch --uid), so the sandbox keeps that uid in a user
//     namespace instead of switching to it; a launcher whose uid is not the spec's run_uid
//     refuses to start the job;
//   - where Slurm allocated GPUs and named them (SLURM_JOB_GPUS, CUDA_VISIBLE_DEVICES), the job
//     gets those device nodes and Slurm's CUDA_VISIBLE_DEVICES.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace openlab::compute {

// Runs the supervisor for the job in `job_dir` until the job has ended and its final status is
// written. Returns the process exit code: 0 when a final status was written, 1 otherwise (details
// on stderr, which LocalExecutor points at JOB_DIR/supervisor.log). With `detach` (`supervise
// --detach`, as LocalExecutor starts it) the calling process exits 0 at once, and a child of it
// supervises the job.
// REQUIRES: the calling process is single-threaded (it blocks signals and forks), and was started
// by LocalExecutor::Launch (or is given a job_dir prepared the same way).
int RunSupervisor(const std::string& job_dir, bool detach = false);

// Runs the job in `job_dir` on this Slurm node, in the foreground (see above). Returns the job's
// exit status as a shell reports it.
// REQUIRES: single-threaded, like RunSupervisor; job_dir prepared by SlurmExecutor::Launch.
int RunOnSlurmNode(const std::string& job_dir);

// Registers the hidden `supervise JOB_DIR` and `slurm-job JOB_DIR` subcommands on `app`;
// `exit_code` receives RunSupervisor's or RunOnSlurmNode's result when one runs.
void AddSupervisorCommand(CLI::App& app, int* exit_code);

}  // namespace openlab::compute
