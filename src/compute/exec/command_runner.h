// CommandRunner: runs one external command (argv, never a shell string) and collects what it
// printed and how it ended. The Slurm executor reaches Slurm only through this interface, so its
// tests can put a FakeCommandRunner in Slurm's place.
//
// Like leveldb's Env (include/leveldb/env.h): a real implementation (RealCommandRunner) and an
// in-memory twin (FakeCommandRunner) behind one small interface.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace openlab::compute {

// How a command ended and what it wrote. Plain data.
struct CommandResult {
  int exit_code = 0;       // exit status when it exited, else -1
  int term_signal = 0;     // the signal that killed it (SIGKILL after a timeout), else 0
  bool timed_out = false;  // it ran past the timeout and was killed
  std::string out;         // everything it wrote to stdout
  std::string err;         // everything it wrote to stderr

  // True when it exited by itself with status 0.
  bool Succeeded() const { return !timed_out && term_signal == 0 && exit_code == 0; }
  // A short description for error messages, e.g. "exit 1: <first line of stderr>".
  std::string Summary() const;
};

// Thread-safety: implementations are safe to call from several threads at once.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;

  // Runs argv[0] (an absolute path; no PATH search) with arguments argv[1..] and exactly `env` as
  // its environment, stdin from /dev/null, in a process group of its own. Waits until it exits
  // and both output pipes are closed, or until `timeout_ms` has passed: then the whole group is
  // killed (SIGKILL) and the result says timed_out. A non-zero exit is a result, not an error.
  // Errors: InvalidArgument for an empty or relative argv[0]; Internal when the process could
  // not be started at all (e.g. no such file: the message says so).
  virtual StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& env,
                                      int timeout_ms) = 0;
};

// Runs commands with posix_spawn; file descriptors of the caller other than 0-2 are not
// inherited. Output beyond max_output_bytes per stream is dropped (the command still runs to
// completion). Stateless and thread-safe.
class RealCommandRunner : public CommandRunner {
 public:
  explicit RealCommandRunner(size_t max_output_bytes = 256u << 20)
      : max_output_bytes_(max_output_bytes) {}
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env,
                              int timeout_ms) override;

 private:
  const size_t max_output_bytes_;
};

// A CommandRunner that runs nothing: each call is answered by the handler the test installed
// (by default: Internal "no handler"), and recorded. Thread-safe; the handler runs without the
// runner's lock held and may be called from several threads at once.
class FakeCommandRunner : public CommandRunner {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    int timeout_ms = 0;
  };
  using Handler = std::function<StatusOr<CommandResult>(const Call& call)>;

  void SetHandler(Handler handler);
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env,
                              int timeout_ms) override;
  // Every call so far, in order.
  std::vector<Call> calls() const;

  // Convenience for handlers: a result that exited with `code` after printing out / err.
  static CommandResult Exited(int code, std::string out, std::string err = "");

 private:
  mutable Mutex mu_;
  Handler handler_ GUARDED_BY(mu_);
  std::vector<Call> calls_ GUARDED_BY(mu_);
};

}  // namespace openlab::compute
