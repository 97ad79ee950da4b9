// The job supervisor: the small process that LocalExecutor starts, detached, for every job, so
// that jobs outlive a crash or restart of the server and can be re-adopted by it.
//
// It runs as `<openlab binary> supervise JOB_DIR` (a hidden subcommand) and:
//   - reads JOB_DIR/spec.json (written by LocalExecutor::Launch);
//   - puts the job in its own cgroup v2 (cpu.max, memory.max) when the cgroup tree under the
//     configured root is writable, otherwise applies rlimits (RLIMIT_AS from memory_bytes, but
//     not for GPU jobs: CUDA reserves far more address space than it uses); the choice is
//     recorded in status.json;
//   - starts argv with execve in a new session / process group, with the job's environment
//     (compute/executor.h JobEnvironment), workdir, stdin from /dev/null and stdout/stderr
//     appended to JOB_DIR/stdout and JOB_DIR/stderr;
//   - writes status.json (state running, its own pid and /proc start time) atomically;
//   - enforces the time limit and honours cancel requests (JOB_DIR/cancel + SIGTERM): SIGTERM to
//     the whole process tree, SIGKILL after grace_seconds;
//   - when the job's main process ends, kills whatever the job left behind (process group,
//     cgroup members, and every descendant: the supervisor is a child subreaper), writes the
//     final status.json, removes the cgroup and exits.
// A SIGTERM/SIGINT/SIGHUP without a cancel file (e.g. the node shutting down) stops the job the
// same way and ends in kNodeFail.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace openlab::compute {

// Runs the supervisor for the job in `job_dir` until the job has ended and its final status is
// written. Returns the process exit code: 0 when a final status was written, 1 otherwise (details
// on stderr, which LocalExecutor points at JOB_DIR/supervisor.log).
// REQUIRES: the calling process is single-threaded (it blocks signals and forks), and was started
// by LocalExecutor::Launch (or is given a job_dir prepared the same way).
int RunSupervisor(const std::string& job_dir);

// Registers the hidden `supervise JOB_DIR` subcommand on `app`; `exit_code` receives
// RunSupervisor's result when it runs.
void AddSupervisorCommand(CLI::App& app, int* exit_code);

}  // namespace openlab::compute
