// ProgramRunner: runs an organiser's program (a scoring or ingestion program, codabench_program.h)
// in a directory layout of its own, with no network, within limits of time, memory and output,
// and says how it ended. Like compute/exec/executor.h: one interface, the real implementation
// (SandboxProgramRunner, over the job sandbox every job starts through: compute/exec/sandbox.h,
// supervisor.h, local_executor.h) and an in-memory twin with fault injection (FakeProgramRunner),
// both held to one contract by program_runner_contract_test.cc.
//
// The layout. Each run has a root directory, LayoutRoot(run_id), which is what the program sees
// as the paths it is given:
//   <root>/<input.at>   each input, read-only (e.g. input/ref: the hidden truth; input/res: the
//                       predictions; program: the program itself)
//   <root>/<output_at>  the one writable directory whose files come back (e.g. output)
//   <root>/<shared_at>  a writable scratch directory, when asked for (ingestion <-> submission)
// Nothing else of the machine's files is there but the system directories, read-only (/usr,
// /etc, ... as the job sandbox gives them), and a private /tmp: not the server's state, not other
// runs, not other inputs. The network is its own empty namespace (a loopback of its own, so
// nothing on the host's 127.0.0.1 answers).
//
// What comes back (ProgramResult): how the program ended (its exit code, the signal that killed
// it, the time limit, the memory limit, too much output), the last `log_tail_bytes` of its
// stdout and of its stderr, and the regular files it left in its output directory (read without
// following links, at most max_output_files of them and max_output_bytes in all: beyond that the
// run ends kOutputTooLarge and none come back). A run's files stay until Discard(run_id).
//
// What a run may put on the server's disk is bounded while it runs, not only once it ended, so a
// program that writes without end cannot fill the disk:
//   - no file it writes (output, shared, /tmp, its stdout and stderr) grows past MaxFileBytes:
//     the write that would fails and the writer gets SIGXFSZ (killed, unless it ignores it);
//   - its output directory and its shared directory are watched (about once a second, a walk
//     that follows no link and stops at the first cap passed): more than max_output_files /
//     max_shared_files regular files, or more than that many entries of other kinds
//     (directories, links, ...), more than max_output_bytes / max_shared_bytes in all, or
//     directories nested deeper than 32, and the program is stopped;
//   - its stdout and its stderr are watched the same way: MaxLogBytes(spec) on either, and the
//     program is stopped.
// Each ends the run kOutputTooLarge, its detail saying which cap (and none of its output comes
// back); so does a writer killed by SIGXFSZ, and the same caps found passed when the program
// ended on its own. Between two looks a program adds at most what it writes in a second.
//
// Errors of Run are the runner's, never the program's: InvalidArgument for a bad spec (see
// ValidateProgramSpec), AlreadyExists for a run_id already used and not discarded,
// FailedPrecondition when the program could not be started at all (an input that does not exist,
// or this machine cannot sandbox it: the message says what is missing), Internal for a failure of
// the machine. A program that fails is an OK Run whose result says how.
//
// Thread-safety: every implementation may run several programs at once (different run_ids),
// from different threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace openlab::compute {
class Executor;
}

namespace openlab::validation::runner {

// A read-only input: a host directory or file, and where it lies in the layout.
struct ProgramInput {
  std::string host_path;  // absolute, no "." or ".." component
  std::string at;         // relative to the layout's root, e.g. "input/ref"
};

struct ProgramSpec {
  // Names the run: 1-128 characters of [A-Za-z0-9._-], not "." or "..".
  std::string run_id;
  // The program and its arguments; argv[0] absolute (codabench_program.h: ResolveProgram). Paths
  // in the layout are written from LayoutRoot(run_id) (codabench_program.h: ExpandCommand).
  std::vector<std::string> argv;
  // The program's whole environment: nothing of the server's is inherited.
  std::map<std::string, std::string> env;
  std::vector<ProgramInput> inputs;
  std::string output_at = "output";
  std::string shared_at;             // "" for none
  std::string workdir_at;            // where the program starts, in the layout; "" for its root
  int64_t time_limit_seconds = 600;  // wall time, 1..86400
  int64_t memory_bytes = int64_t{2} << 30;  // > 0: the program's memory (address space, where
                                            // the machine has no memory cgroup)
  int64_t log_tail_bytes = 64 * 1024;       // 1..16 MiB, kept of stdout and of stderr each
  int64_t max_output_bytes = 64 << 20;      // 1..1 GiB: the output files, all together
  int64_t max_output_files = 1000;          // 1..100000
  // The shared directory, when there is one: its files all together, 1..16 GiB (one file is at
  // most MaxFileBytes, 1 GiB at most), and how many, 1..1000000.
  int64_t max_shared_bytes = int64_t{1} << 30;
  int64_t max_shared_files = 10000;
};

// The most a run's stdout, and its stderr, may hold: 64 times log_tail_bytes, at least 64 MiB
// (a long honest run prints progress lines for hours: 64 MiB is a line of 100 bytes ten times a
// second for 18 hours), at most 1 GiB. Reaching it ends the run kOutputTooLarge.
int64_t MaxLogBytes(const ProgramSpec& spec);
// The largest file a run may write, its stdout and stderr included (LaunchSpec::max_file_bytes):
// the largest of max_output_bytes, max_shared_bytes (with a shared directory) and
// MaxLogBytes, at most 1 GiB.
int64_t MaxFileBytes(const ProgramSpec& spec);

// Checks `spec` without touching the system: the run_id, an absolute argv[0], no NUL byte,
// environment names [A-Za-z_][A-Za-z0-9_]*, absolute clean host paths, layout paths relative,
// clean and non-empty (output_at, and each input's `at`), no two of them equal or one inside
// another, the workdir inside the layout, and the limits in their ranges. InvalidArgument naming
// the first problem.
Status ValidateProgramSpec(const ProgramSpec& spec);

enum class ProgramEnd {
  kExited,          // exit_code says how (0: success)
  kKilled,          // killed by `signal` (not by a limit of ours)
  kTimedOut,        // ran past time_limit_seconds, and was killed
  kOutOfMemory,     // killed for using more than memory_bytes (where the machine can tell)
  kOutputTooLarge,  // wrote past a cap on its output, shared directory, logs or one file
  kStopped,         // stopped by Stop(run_id): its caller no longer wants it (a cancellation, a
                    // server going down)
};
// "exited", "killed", "timed_out", "out_of_memory", "output_too_large", "stopped".
std::string_view ProgramEndName(ProgramEnd end);

struct ProgramResult {
  ProgramEnd end = ProgramEnd::kExited;
  int exit_code = 0;   // kExited: the program's exit code
  int signal = 0;      // kKilled: the signal
  std::string detail;  // a sentence for people: how it ended
  // The end of what the program wrote, at most log_tail_bytes each; *_truncated when more was
  // written than is kept.
  std::string stdout_tail, stderr_tail;
  bool stdout_truncated = false, stderr_truncated = false;
  // The regular files it left in its output directory: path relative to it -> content.
  std::map<std::string, std::string> output_files;

  bool succeeded() const { return end == ProgramEnd::kExited && exit_code == 0; }
};

class ProgramRunner {
 public:
  virtual ~ProgramRunner() = default;
  // Runs the program to its end (blocking). See the header comment for what comes back and the
  // errors.
  virtual StatusOr<ProgramResult> Run(const ProgramSpec& spec) = 0;
  // The absolute path at which the program sees its layout's root.
  virtual std::string LayoutRoot(const std::string& run_id) const = 0;
  // Removes a run's files, however deep a tree its program left (links are removed, never
  // followed). OK for a run_id never used (or discarded already).
  virtual Status Discard(const std::string& run_id) = 0;
  // Stops a run, from any thread: a run in progress has its program and all it started killed,
  // and its Run returns, ending kStopped (none of its output comes back); a run not started yet
  // ends kStopped as soon as it starts, without running. The mark stays until Discard(run_id).
  virtual Status Stop(const std::string& run_id) = 0;
  // One line for operators: how programs are confined.
  virtual std::string Describe() const = 0;
};

// The real runner: each program is a job of a LocalExecutor of its own (each under an
// openlab-supervise process, in the job sandbox, sandbox required: a program never runs outside
// it), with network off, its inputs and layout read-only, its output and shared directories
// writable, memory_bytes as the job's memory limit, time_limit_seconds as its time limit and
// MaxFileBytes as its largest file; Run watches the output, shared directory and logs while the
// job runs and cancels it at the first cap passed (see the header comment).
//
// Files under Options::root: layouts/<run_id>/ (the layout; inputs appear there as symbolic
// links to their host paths, which the sandbox binds read-only at the same paths) and
// jobs/<run_id>/ (the supervisor's files: stdout, stderr, status).
class SandboxProgramRunner : public ProgramRunner {
 public:
  struct Options {
    // An executable with the `supervise` subcommand (openlab-supervise, beside openlab).
    std::string supervisor_bin;
    // Absolute; created if missing (0711: programs are given their own layout, never a list of
    // the others).
    std::string root;
    // The identity programs run as when the server is root (both > 0: a uid of no project's jobs,
    // taken from the compute identities by the caller); -1/-1 when the server is not root (the
    // program keeps the server's uid inside a user namespace of its own).
    int64_t uid = -1;
    int64_t gid = -1;
    // Where the executor makes its cgroups ("" for rlimits only).
    std::string cgroup_root = "/sys/fs/cgroup/openlab";
  };
  // InvalidArgument for relative paths, a missing supervisor, or a root server without a uid.
  static StatusOr<std::unique_ptr<SandboxProgramRunner>> Create(Options options);
  ~SandboxProgramRunner() override;

  StatusOr<ProgramResult> Run(const ProgramSpec& spec) override;
  std::string LayoutRoot(const std::string& run_id) const override;
  Status Discard(const std::string& run_id) override;
  Status Stop(const std::string& run_id) override EXCLUDES(mu_);
  std::string Describe() const override;

 private:
  SandboxProgramRunner(Options options, std::unique_ptr<compute::Executor> executor);
  void Ended() EXCLUDES(mu_);

  Options options_;
  std::unique_ptr<compute::Executor> executor_;
  Mutex mu_;
  CondVar ended_;  // signalled whenever the executor reports that a job ended
  uint64_t ends_ GUARDED_BY(mu_) = 0;
  // The runs in progress: run_id -> the executor's handle; and those asked to stop (until
  // Discard).
  std::map<std::string, std::string> running_ GUARDED_BY(mu_);
  std::map<std::string, bool> stopping_ GUARDED_BY(mu_);
};

// The in-memory twin: runs nothing. The test says what each run does (a FakeProgram: its exit
// code or signal, a time-out, an out-of-memory end, what it prints, the files it leaves in its
// output and shared directories); the fake applies the same spec checks, the same caps on logs,
// output and shared files, and the same errors.
// Runs that were not scripted exit 0 leaving nothing.
class FakeProgramRunner : public ProgramRunner {
 public:
  struct FakeProgram {
    ProgramEnd end = ProgramEnd::kExited;  // kOutputTooLarge is decided by the caps, not here
    int exit_code = 0;
    int signal = 0;
    std::string stdout_text, stderr_text;
    std::map<std::string, std::string> output_files;
    std::map<std::string, std::string> shared_files;  // what it leaves in its shared directory
    // Runs until Stop(run_id) is called (as a program that never ends by itself), then ends
    // kStopped.
    bool until_stopped = false;
  };
  // What runs named `run_id` do.
  void Script(const std::string& run_id, FakeProgram program) EXCLUDES(mu_);
  // The next Run fails with `status` (a runner's failure: e.g. FailedPrecondition), once.
  void FailNextRun(Status status) EXCLUDES(mu_);
  // Every spec Run accepted, in order.
  std::vector<ProgramSpec> runs() const EXCLUDES(mu_);

  StatusOr<ProgramResult> Run(const ProgramSpec& spec) override EXCLUDES(mu_);
  std::string LayoutRoot(const std::string& run_id) const override;
  Status Discard(const std::string& run_id) override EXCLUDES(mu_);
  Status Stop(const std::string& run_id) override EXCLUDES(mu_);
  std::string Describe() const override { return "fake: runs nothing"; }

 private:
  mutable Mutex mu_;
  CondVar changed_;                                       // a run was asked to stop
  std::map<std::string, bool> stopping_ GUARDED_BY(mu_);  // asked to stop (until Discard)
  std::map<std::string, FakeProgram> scripts_ GUARDED_BY(mu_);
  std::map<std::string, bool> used_ GUARDED_BY(mu_);
  std::vector<ProgramSpec> runs_ GUARDED_BY(mu_);
  Status fail_next_ GUARDED_BY(mu_);
};

// What both implementations share: the tail of a log, and the caps on output, as a result.
// Keeps the last `cap` bytes of `text`; `truncated` says whether any were dropped.
std::string LogTail(std::string_view text, int64_t cap, bool* truncated);

}  // namespace openlab::validation::runner
