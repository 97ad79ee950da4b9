// What the end-to-end tests share: the binary under test, temporary directories, and a running
// `openlab serve` as a child process whose port is read from its "listening" log line.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace openlab::testing {

namespace e2e_json = boost::json;
using namespace std::chrono_literals;

inline std::string Bin() {
  const char* b = std::getenv("OPENLAB_BIN");
  return b ? b : "./openlab";
}

inline std::string TempDir() {
  char tmpl[] = "/tmp/openlab-e2e-XXXXXX";
  return mkdtemp(tmpl);
}

// A running `openlab serve`.
class ServerProcess {
 public:
  // `before_exec` runs in the child just before the server is executed (e.g. to take away a
  // kernel feature from it).
  explicit ServerProcess(std::string state, std::vector<std::string> extra = {},
                         void (*before_exec)() = nullptr)
      : state_(std::move(state)) {
    int err_pipe[2];
    EXPECT_EQ(pipe(err_pipe), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err_pipe[1], 2);
      close(err_pipe[0]);
      std::vector<std::string> args = {Bin(),         "serve",   "--listen",
                                       "127.0.0.1:0", "--state", state_};
      for (auto& e : extra) args.push_back(e);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      if (before_exec != nullptr) before_exec();
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(err_pipe[1]);
    err_ = fdopen(err_pipe[0], "r");
    // Wait for the "listening" log line and read the port from it.
    char line[4096];
    while (fgets(line, sizeof(line), err_) != nullptr) {
      log_ += line;
      std::string l(line);
      if (l.find("\"msg\":\"listening\"") != std::string::npos) {
        auto v = e2e_json::parse(l);
        std::string url(v.at("url").as_string());
        port_ = std::stoi(url.substr(url.rfind(':') + 1));
        break;
      }
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    drain_ = std::thread([this] {
      char buf[4096];
      while (fgets(buf, sizeof(buf), err_) != nullptr) {
        std::lock_guard<std::mutex> lock(mu_);
        log_ += buf;
      }
    });
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (drain_.joinable()) drain_.join();
    if (err_) fclose(err_);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  void Signal(int sig) { kill(pid_, sig); }
  // Waits for the process; returns its exit status (or 128+signal).
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }
  // Waits at most `limit`; returns -1 if the process is still running.
  int WaitFor(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

 private:
  std::string state_;
  pid_t pid_ = -1;
  bool exited_ = false;
  FILE* err_ = nullptr;
  int port_ = 0;
  std::mutex mu_;
  std::string log_;
  std::thread drain_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace openlab::testing
