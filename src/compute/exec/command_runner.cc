#include "compute/exec/command_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace openlab::compute {

namespace {

// Closes what it holds on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  void Reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

struct FileActions {
  posix_spawn_file_actions_t fa;
  FileActions() { posix_spawn_file_actions_init(&fa); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
};

struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};

}  // namespace

std::string CommandResult::Summary() const {
  std::string first = err.empty() ? out : err;
  size_t nl = first.find('\n');
  if (nl != std::string::npos) first.resize(nl);
  if (first.size() > 300) first.resize(300);
  std::string how = timed_out          ? std::string("timed out")
                    : term_signal != 0 ? fmt::format("killed by signal {}", term_signal)
                                       : fmt::format("exit {}", exit_code);
  return first.empty() ? how : how + ": " + first;
}

StatusOr<CommandResult> RealCommandRunner::Run(const std::vector<std::string>& argv,
                                               const std::map<std::string, std::string>& env,
                                               int timeout_ms) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return InvalidArgument("a command must be given with an absolute path");
  }
  // Everything the child needs is built before it exists.
  std::vector<std::string> arg_strings = argv;
  std::vector<char*> cargv;
  for (auto& a : arg_strings) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
  Fd out_r{out_pipe[0]}, out_w{out_pipe[1]};
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return Internal(fmt::format("pipe: {}", strerror(errno)));
  Fd err_r{err_pipe[0]}, err_w{err_pipe[1]};

  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa.fa, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&fa.fa, err_w.fd, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&fa.fa, 3);
#endif
  SpawnAttr attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr.attr, &none);
  // Dispositions the server ignores (SIGPIPE, maybe SIGCHLD) must not leak into the command.
  posix_spawnattr_setsigdefault(&attr.attr, &all);
  posix_spawnattr_setpgroup(&attr.attr, 0);
  posix_spawnattr_setflags(&attr.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &fa.fa, &attr.attr, cargv.data(), cenv.data());
  if (rc != 0) return Internal(fmt::format("cannot run {}: {}", argv[0], strerror(rc)));
  out_w.Reset();
  err_w.Reset();

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::max<int64_t>(0, left.count());
  };
  CommandResult result;
  Fd* fds[2] = {&out_r, &err_r};
  std::string* sinks[2] = {&result.out, &result.err};
  char buf[65536];
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    int64_t left = remaining_ms();
    if (left == 0) {
      result.timed_out = true;
      break;
    }
    pollfd pfds[2];
    int n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i) {
      if (fds[i]->fd < 0) continue;
      pfds[n] = {fds[i]->fd, POLLIN, 0};
      which[n++] = i;
    }
    int ready = poll(pfds, n, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int j = 0; j < n && ready > 0; ++j) {
      if (pfds[j].revents == 0) continue;
      int i = which[j];
      ssize_t got = read(fds[i]->fd, buf, sizeof buf);
      if (got > 0) {
        size_t room = max_output_bytes_ - std::min(max_output_bytes_, sinks[i]->size());
        sinks[i]->append(buf, std::min(static_cast<size_t>(got), room));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i]->Reset();
      }
    }
  }
  // Both pipes are closed (or time is up); the command may still be running. Its whole group is
  // killed before it is reaped, while the group id cannot yet have been reused.
  if (result.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {  // ECHILD: someone else reaped it; how it ended is unknown
      result.exit_code = -1;
      return result;
    }
    if (!result.timed_out && remaining_ms() == 0) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

void FakeCommandRunner::SetHandler(Handler handler) {
  MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

StatusOr<CommandResult> FakeCommandRunner::Run(const std::vector<std::string>& argv,
                                               const std::map<std::string, std::string>& env,
                                               int timeout_ms) {
  Call call{argv, env, timeout_ms};
  Handler handler;
  {
    MutexLock lock(&mu_);
    calls_.push_back(call);
    handler = handler_;
  }
  if (!handler) return Internal("FakeCommandRunner: no handler for " + argv.at(0));
  return handler(call);
}

std::vector<FakeCommandRunner::Call> FakeCommandRunner::calls() const {
  MutexLock lock(&mu_);
  return calls_;
}

CommandResult FakeCommandRunner::Exited(int code, std::string out, std::string err) {
  CommandResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

}  // namespace openlab::compute
