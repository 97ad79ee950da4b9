#include "validation/service.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/crypto.h"
#include "common/log.h"
#include "data/catalog/datasets.h"
#include "data/service.h"
#include "validation/code_tree.h"
#include "validation/runner/codabench_program.h"

namespace openlab::validation {

namespace {

// A submission's file name: its id, or its id and a suffix ("sub_....log").
bool SafeId(const std::string& id) {
  if (id.empty() || id.size() > 80 || id.front() == '.') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-')) {
      return false;
    }
  }
  return id.find("..") == std::string::npos;
}

Status Errno(const std::string& what) {
  return Internal(fmt::format("{}: {}", what, std::strerror(errno)));
}

Status WriteMarker(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + path);
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

}  // namespace

ScoringService::ScoringService(store::Database* db, Clock* clock, TruthReader truth,
                               ScoringOptions o)
    : db_(db), clock_(clock), truth_reader_(std::move(truth)), opts_(std::move(o)) {
  if (opts_.owner.empty()) opts_.owner = "scorer-" + RandomToken(8);
  if (opts_.work_root.empty()) opts_.work_root = opts_.files_root + "/work";
}

ScoringService::~ScoringService() { Stop(); }

void ScoringService::Start() {
  if (!threads_.empty()) return;
  {
    MutexLock l(&mu_);
    stop_ = false;
  }
  // The sweep lists every stored file: the first worker makes it before it scores, so that the
  // server's start does not wait for it.
  threads_.emplace_back([this] {
    auto swept = SweepOrphans();
    if (!swept.ok()) {
      Log(LogLevel::kWarn, "sweeping orphaned submission files failed",
          {{"error", swept.status().ToString()}});
    } else if (*swept > 0) {
      Log(LogLevel::kInfo, "orphaned submission files removed",
          {{"count", std::to_string(*swept)}});
    }
    Loop();
  });
  for (int i = 1; i < std::max(1, opts_.workers); ++i) threads_.emplace_back([this] { Loop(); });
}

StatusOr<int> ScoringService::SweepOrphans(std::chrono::seconds min_age) {
  namespace fs = std::filesystem;
  auto now = fs::file_time_type::clock::now();
  auto old_enough = [&](const fs::directory_entry& e, std::chrono::seconds age) {
    std::error_code ec;
    auto t = e.last_write_time(ec);
    return !ec && now - t >= age;
  };
  int removed = 0;
  std::error_code ec, list_ec;
  // A submission's files are named by its id: "sub_X", "sub_X.log", "sub_X.scoring.log".
  std::map<std::string, std::vector<fs::path>> by_id;
  for (const auto& e : fs::directory_iterator(opts_.files_root, list_ec)) {
    if (!e.is_regular_file() || !old_enough(e, min_age)) continue;
    std::string name = e.path().filename().string();
    if (name.ends_with(".tmp")) {
      if (fs::remove(e.path(), ec)) ++removed;
      continue;
    }
    by_id[name.substr(0, name.find('.'))].push_back(e.path());
  }
  if (list_ec && list_ec != std::errc::no_such_file_or_directory) {
    return Internal(fmt::format("listing {}: {}", opts_.files_root, list_ec.message()));
  }
  std::vector<std::string> ids;
  for (const auto& [id, paths] : by_id) ids.push_back(id);
  for (size_t at = 0; at < ids.size(); at += 200) {
    std::vector<std::string> batch(
        ids.begin() + static_cast<std::ptrdiff_t>(at),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), at + 200)));
    std::set<std::string> known;
    RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
      std::string marks;
      std::vector<store::Value> args;
      for (const auto& id : batch) {
        marks += fmt::format("{}${}", marks.empty() ? "" : ", ", args.size() + 1);
        args.emplace_back(id);
      }
      ASSIGN_OR_RETURN(
          auto rows,
          tx.Query(fmt::format("SELECT id FROM submissions WHERE id IN ({})", marks), args));
      for (const auto& r : rows) known.insert(r.Str(0));
      return Status::Ok();
    }));
    for (const auto& id : batch) {
      if (known.count(id) > 0) continue;
      for (const auto& p : by_id[id]) {
        if (fs::remove(p, ec)) ++removed;
      }
    }
  }
  for (const auto& e : fs::directory_iterator(opts_.work_root, list_ec)) {
    if (e.is_directory() && old_enough(e, std::chrono::hours(24))) {
      if (fs::remove_all(e.path(), ec) > 0) ++removed;
    }
  }
  return removed;
}

void ScoringService::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  // A run would otherwise hold the stop up for as long as its time limit.
  std::vector<std::string> running;
  {
    MutexLock l(&runs_mu_);
    for (const auto& [submission, run] : active_runs_) running.push_back(submission);
  }
  for (const auto& id : running) StopRunOf(id);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ScoringService::Poke() {
  {
    MutexLock l(&mu_);
    poked_ = true;
  }
  cv_.SignalAll();
}

void ScoringService::Loop() {
  for (;;) {
    {
      MutexLock l(&mu_);
      if (stop_) return;
      poked_ = false;
    }
    auto n = Drain();
    if (!n.ok()) Log(LogLevel::kWarn, "scoring stopped", {{"error", n.status().ToString()}});
    MutexLock l(&mu_);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.idle_poll_ms);
    while (!stop_ && !poked_) {
      if (cv_.WaitUntil(&mu_, deadline) == std::cv_status::timeout) break;
    }
    if (stop_) return;
  }
}

StatusOr<int> ScoringService::Drain() {
  int ended = 0;
  for (;;) {
    {
      MutexLock l(&mu_);
      if (stop_) return ended;
    }
    std::optional<Submission> claimed;
    RETURN_IF_ERROR(db_->Write([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(claimed, ClaimSubmission(tx, opts_.owner, opts_.lease, clock_->NowMs()));
      return Status::Ok();
    }));
    if (!claimed) return ended;
    Status s = ScoreOne(*claimed);
    if (!s.ok() && s.code() != StatusCode::kAborted) {
      Log(LogLevel::kWarn, "scoring failed",
          {{"submission", claimed->id}, {"error", s.ToString()}});
    }
    ++ended;
  }
}

StatusOr<std::shared_ptr<const Truth>> ScoringService::TruthOf(const Benchmark& b, const Phase& p) {
  std::string key = p.id + "/" + p.truth_version_id + "/" + p.truth_file;
  {
    MutexLock l(&cache_mu_);
    auto it = truths_.find(key);
    if (it != truths_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::string bytes, truth_reader_(p));
  auto parsed = ParseTruth(b.task_type, bytes, b.split_key, b.public_permille);
  if (!parsed.ok()) {
    // The organiser's file, not the participant's: say so, and keep its words for the organiser.
    return FailedPrecondition(fmt::format("the ground truth of phase {} cannot be read: {}", p.name,
                                          parsed.status().message()));
  }
  auto truth = std::make_shared<const Truth>(std::move(*parsed));
  MutexLock l(&cache_mu_);
  // One phase's truths at a time: a new version replaces the old.
  for (auto it = truths_.begin(); it != truths_.end();) {
    it = it->first.rfind(p.id + "/", 0) == 0 ? truths_.erase(it) : std::next(it);
  }
  truths_[key] = truth;
  return truth;
}

Status ScoringService::CheckTruth(const std::string& task_type, const Phase& p,
                                  const std::vector<std::string>& metrics) {
  auto bytes = truth_reader_(p);
  if (!bytes.ok()) {
    return FailedPrecondition(fmt::format("phase {}: the ground truth cannot be read: {}", p.name,
                                          bytes.status().message()));
  }
  // Any key splits the rows: what is checked does not depend on which side a row falls.
  auto truth = ParseTruth(task_type, *bytes, std::string(32, '0'), 500);
  if (!truth.ok()) {
    return InvalidArgument(fmt::format("phase {}: the ground truth ({}) is not a {} task's: {}",
                                       p.name, p.truth_file, task_type, truth.status().message()));
  }
  Status serves = CheckTruthServes(*truth, metrics);
  if (!serves.ok()) {
    return InvalidArgument(fmt::format("phase {}: {}", p.name, serves.message()));
  }
  return Status::Ok();
}

namespace {

// The argument list of the organiser's program in `program_dir`: its `metadata` command with
// the variables made `dirs`, the program found. An error (naming `file`) when it cannot start.
StatusOr<std::vector<std::string>> ProgramArgv(const std::string& program_dir,
                                               const runner::ProgramDirs& dirs,
                                               std::string_view file) {
  std::ifstream in(program_dir + "/metadata", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(auto metadata, runner::ParseProgramMetadata(text.str(), file));
  ASSIGN_OR_RETURN(auto argv, runner::ExpandCommand(metadata, dirs, file));
  ASSIGN_OR_RETURN(argv[0], runner::ResolveProgram(argv[0], [](const std::string& path) {
                     return ::access(path.c_str(), X_OK) == 0;
                   }));
  return argv;
}

}  // namespace

Status ScoringService::StoreFile(const std::string& id, std::string_view bytes) {
  if (!SafeId(id)) return Internal("a submission file's id is not an id");
  std::filesystem::create_directories(opts_.files_root);
  std::string path = opts_.files_root + "/" + id;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + tmp);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write " + tmp);
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("fsync " + tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp);
  int dfd = ::open(opts_.files_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

StatusOr<std::string> ScoringService::ReadFile(const std::string& id) const {
  if (!SafeId(id)) return Internal("a submission file's id is not an id");
  std::ifstream in(opts_.files_root + "/" + id, std::ios::binary);
  if (!in) return NotFound(fmt::format("the predictions file of {} is missing", id));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status ScoringService::ScoreOne(const Submission& s) {
  // The heartbeat renews the lease while the scorer works.
  Mutex hb_mu;
  CondVar hb_cv;
  bool done = false;
  std::thread heartbeat([&] {
    MutexLock l(&hb_mu);
    for (;;) {
      auto next =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.lease.lease_ms / 3);
      while (!done) {
        if (hb_cv.WaitUntil(&hb_mu, next) == std::cv_status::timeout) break;
      }
      if (done) return;
      Status r = db_->Write([&](store::Tx& tx) {
        return RenewLease(tx, s.id, opts_.owner, opts_.lease, clock_->NowMs());
      });
      if (!r.ok()) {
        Log(LogLevel::kWarn, "scoring lease lost", {{"submission", s.id}, {"error", r.ToString()}});
        // Cancelled, or taken by another scorer: what runs for it here is for nobody now.
        if (r.code() == StatusCode::kAborted) StopRunOf(s.id);
      }
    }
  });
  struct Ender {
    Mutex* mu;
    CondVar* cv;
    bool* done;
    std::thread* t;
    ~Ender() {
      {
        MutexLock l(mu);
        *done = true;
      }
      cv->SignalAll();
      t->join();
    }
  } ender{&hb_mu, &hb_cv, &done, &heartbeat};

  auto end_unscored = [&](const std::string& state, const std::string& reason) {
    return db_->Write([&](store::Tx& tx) {
      return EndUnscored(tx, s.id, opts_.owner, state, reason, clock_->NowMs()).status();
    });
  };
  Benchmark b;
  RETURN_IF_ERROR(db_->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(b, GetBenchmark(tx, s.benchmark_id));
    return Status::Ok();
  }));
  const Phase* phase = nullptr;
  for (const auto& p : b.phases) {
    if (p.id == s.phase_id) phase = &p;
  }
  if (phase == nullptr) return end_unscored("failed", "the submission's phase is gone");
  // A built-in task's truth first: a truth the centre cannot read fails every submission alike.
  std::shared_ptr<const Truth> truth;
  if (b.task_type != "custom") {
    auto t = TruthOf(b, *phase);
    if (!t.ok()) {
      return end_unscored("failed",
                          "the centre could not read the ground truth; the organisers are told, "
                          "and a re-score follows once it is mended");
    }
    truth = *t;
  }
  std::string format = s.format;
  std::string bytes;
  std::map<std::string, std::string> code_files;  // a custom task's code output, all of it
  if (s.kind == "code") {
    // The run's hold on the benchmark's compute allocation, then the run, then its charge.
    Status begun =
        db_->Write([&](store::Tx& tx) { return StartRun(tx, s.id, opts_.owner, clock_->NowMs()); });
    if (begun.code() == StatusCode::kResourceExhausted) {
      return end_unscored("failed",
                          "the benchmark's project has no CPU allocation left to pay for the run; "
                          "not counted (its organisers may re-score it once it has)");
    }
    RETURN_IF_ERROR(begun);
    auto out = RunCode(s, b, *phase);
    Status charged =
        db_->Write([&](store::Tx& tx) { return EndRun(tx, s.id, opts_.owner, clock_->NowMs()); });
    if (!charged.ok()) {
      Log(LogLevel::kWarn, "code run's charge not settled yet",
          {{"submission", s.id}, {"error", charged.ToString()}});
    }
    if (Stopping()) return Aborted("the server is stopping: the submission is taken again later");
    if (!out.ok()) {
      Log(LogLevel::kWarn, "code run failed",
          {{"submission", s.id}, {"error", out.status().ToString()}});
      return end_unscored("failed", "the centre could not run the code; not counted");
    }
    if (!out->end_state.empty()) return end_unscored(out->end_state, out->reason);
    format = out->format;
    bytes = std::move(out->bytes);
    code_files = std::move(out->files);
  } else {
    auto stored = ReadFile(s.id);
    if (!stored.ok()) return end_unscored("failed", "the centre lost the predictions file");
    if (Sha256Hex(*stored) != s.sha256) {
      return end_unscored("failed", "the stored predictions file does not match its digest");
    }
    bytes = std::move(*stored);
  }
  SplitScores scores;
  if (b.task_type == "custom") {
    // The organiser's program scores the whole test set: both rankings are its scores.
    auto run = RunScoringProgram(
        s, b, *phase,
        s.kind == "code" ? code_files
                         : std::map<std::string, std::string>{{"predictions." + format, bytes}});
    if (Stopping()) return Aborted("the server is stopping: the submission is taken again later");
    if (!run.ok()) {
      Log(LogLevel::kWarn, "scoring program failed to start",
          {{"submission", s.id}, {"error", run.status().ToString()}});
      return end_unscored("failed", "the centre could not run the scoring program; not counted");
    }
    if (!run->end_state.empty()) return end_unscored(run->end_state, run->reason);
    scores.pub = run->scores;
    scores.priv = run->scores;
  } else {
    auto preds = ParsePredictions(*truth, format, bytes);
    if (!preds.ok()) return end_unscored("invalid", preds.status().message());
    std::vector<std::string> names;
    for (const auto& m : b.metrics) names.push_back(m.name);
    auto split = Score(*truth, *preds, names);
    if (!split.ok()) return end_unscored("invalid", split.status().message());
    scores = std::move(*split);
  }
  return db_->Write([&](store::Tx& tx) {
    return FinishScoring(tx, s.id, opts_.owner, phase->truth_version_id, scores.pub, scores.priv,
                         clock_->NowMs())
        .status();
  });
}

StatusOr<ScoringService::ProgramScores> ScoringService::RunScoringProgram(
    const Submission& s, const Benchmark& b, const Phase& p,
    const std::map<std::string, std::string>& res_files) {
  ProgramScores out;
  if (opts_.runner == nullptr || !opts_.versions) {
    out.end_state = "failed";
    out.reason = "this server runs no scoring programs; not counted";
    return out;
  }
  ASSIGN_OR_RETURN(std::string truth_dir, opts_.versions(p.truth_dataset_id, p.truth_version_id));
  ASSIGN_OR_RETURN(std::string program_dir,
                   opts_.versions(p.program_dataset_id, p.program_version_id));
  // The submission as the program's input/res: the predictions file as predictions.<format>, or
  // what the code (or its ingestion program) wrote.
  std::string run_id = fmt::format("{}-score-{}", s.id, s.attempts);
  std::string res_dir = opts_.work_root + "/" + run_id;
  std::error_code ec;
  std::filesystem::remove_all(res_dir, ec);
  std::filesystem::create_directories(res_dir, ec);
  std::filesystem::permissions(res_dir, std::filesystem::perms(0755), ec);
  RETURN_IF_ERROR(WriteCodeTree(CodeTree{"", res_files}, res_dir));
  std::string root = opts_.runner->LayoutRoot(run_id);
  runner::ProgramDirs dirs{root + "/program", root + "/input", root + "/output", "", ""};
  auto argv = ProgramArgv(program_dir, dirs, "scoring_program/metadata");
  if (!argv.ok()) {
    std::filesystem::remove_all(res_dir, ec);
    out.end_state = "failed";
    out.reason =
        "the benchmark's scoring program cannot start (its organisers are to mend it); "
        "not counted";
    return out;
  }
  runner::ProgramSpec spec;
  spec.run_id = run_id;
  spec.argv = std::move(*argv);
  spec.inputs = {{program_dir, "program"}, {truth_dir, "input/ref"}, {res_dir, "input/res"}};
  spec.workdir_at = "program";
  spec.time_limit_seconds = std::min<int64_t>(b.rules.max_runtime_s, 3600);
  spec.memory_bytes = b.rules.max_memory_mb << 20;
  spec.max_output_bytes = 1 << 20;
  spec.max_output_files = 100;
  // What the program printed is the organisers' (it may print the truth): kept in a log that no
  // route serves for a custom task's submission.
  ASSIGN_OR_RETURN(auto result, RunProgram(s.id, std::move(spec), res_dir, s.id + ".scoring.log",
                                           "scoring program: "));
  if (!result.succeeded()) {
    out.end_state = "invalid";
    out.reason =
        fmt::format("the scoring program refused the submission ({}); not counted", result.detail);
    return out;
  }
  auto scores = runner::ScoresFromOutput(result.output_files);
  if (!scores.ok()) {
    out.end_state = "invalid";
    out.reason = "the scoring program wrote no scores for it; not counted";
    return out;
  }
  for (const auto& m : b.metrics) {
    auto it = scores->find(m.name);
    if (it == scores->end()) {
      out.end_state = "invalid";
      out.reason = fmt::format("the scoring program gave no '{}'; not counted", m.name);
      return out;
    }
    out.scores[m.name] = it->second;
  }
  return out;
}

StatusOr<std::string> ScoringService::ReadLog(const std::string& id) const {
  auto log = ReadFile(id + ".log");
  if (!log.ok() && log.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("submission {} has no log (it has not run)", id));
  }
  return log;
}

void ScoringService::StopRunOf(const std::string& submission_id) {
  std::string run;
  {
    MutexLock l(&runs_mu_);
    auto it = active_runs_.find(submission_id);
    if (it == active_runs_.end()) return;
    run = it->second;
  }
  Status s = opts_.runner->Stop(run);
  if (s.ok()) Log(LogLevel::kInfo, "run stopped", {{"submission", submission_id}, {"run", run}});
}

bool ScoringService::Stopping() {
  MutexLock l(&mu_);
  return stop_;
}

StatusOr<runner::ProgramResult> ScoringService::RunProgram(const std::string& submission_id,
                                                           runner::ProgramSpec spec,
                                                           const std::string& scratch,
                                                           const std::string& log_name,
                                                           const std::string& label) {
  // Nothing of the server's environment: these, and what the caller adds.
  spec.env.insert(
      {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", "/tmp"}, {"LANG", "C.UTF-8"}});
  std::string run_id = spec.run_id;
  {
    MutexLock l(&runs_mu_);
    active_runs_[submission_id] = run_id;
  }
  // Stop() may have looked at the runs just before this one was listed.
  if (Stopping()) (void)opts_.runner->Stop(run_id);
  auto result = opts_.runner->Run(spec);
  {
    MutexLock l(&runs_mu_);
    active_runs_.erase(submission_id);
  }
  (void)opts_.runner->Discard(run_id);
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  RETURN_IF_ERROR(result.status());
  RETURN_IF_ERROR(StoreFile(
      log_name,
      fmt::format("{}{}\n--- stdout{} ---\n{}\n--- stderr{} ---\n{}\n", label, result->detail,
                  result->stdout_truncated ? " (its end)" : "", result->stdout_tail,
                  result->stderr_truncated ? " (its end)" : "", result->stderr_tail)));
  return std::move(*result);
}

StatusOr<ScoringService::CodeOutput> ScoringService::RunCode(const Submission& s,
                                                             const Benchmark& b, const Phase& p) {
  CodeOutput out;
  if (opts_.runner == nullptr) {
    out.end_state = "failed";
    out.reason = "this server runs no code submissions; not counted";
    return out;
  }
  ASSIGN_OR_RETURN(std::string stored, ReadFile(s.id));
  auto tree = ParseCodeTree(stored, /*entry_required=*/false);
  if (!tree.ok() || CodeTreeDigest(*tree) != s.sha256) {
    out.end_state = "failed";
    out.reason = "the stored code does not match its digest; not counted";
    return out;
  }
  // A fresh copy of the code for each attempt, read-only to the program.
  std::string run_id = fmt::format("{}-{}", s.id, s.attempts);
  std::string code_dir = opts_.work_root + "/" + run_id;
  std::error_code ec;
  std::filesystem::remove_all(code_dir, ec);
  RETURN_IF_ERROR(WriteCodeTree(*tree, code_dir));
  runner::ProgramSpec spec;
  spec.run_id = run_id;
  std::string root = opts_.runner->LayoutRoot(run_id);
  std::string inputs;
  if (!p.input_version_id.empty() && opts_.versions) {
    ASSIGN_OR_RETURN(inputs, opts_.versions(p.input_dataset_id, p.input_version_id));
  }
  if (p.ingestion_version_id.empty()) {
    // The code's own entry command, in its folder; the inputs at $OPENLAB_INPUT.
    if (tree->entry.empty()) {
      std::filesystem::remove_all(code_dir, ec);
      out.end_state = "invalid";
      out.reason = "the code names no entry command, and this phase has no ingestion program";
      return out;
    }
    spec.argv = {"/bin/sh", "-c", tree->entry};
    spec.env = {{"OPENLAB_INPUT", root + "/input"}, {"OPENLAB_OUTPUT", root + "/output"}};
    spec.inputs.push_back({code_dir, "code"});
    if (!inputs.empty()) spec.inputs.push_back({inputs, "input"});
    spec.workdir_at = "code";
  } else {
    // The organiser's ingestion program runs the code (Codabench's layout): its own files at
    // $program, the inputs at $input, the code at $submission_program, a scratch $shared.
    ASSIGN_OR_RETURN(std::string program,
                     opts_.versions(p.ingestion_dataset_id, p.ingestion_version_id));
    runner::ProgramDirs dirs{root + "/program", inputs.empty() ? "" : root + "/input",
                             root + "/output", root + "/shared", root + "/submission"};
    auto argv = ProgramArgv(program, dirs, "ingestion_program/metadata");
    if (!argv.ok()) {
      std::filesystem::remove_all(code_dir, ec);
      out.end_state = "failed";
      out.reason =
          "the benchmark's ingestion program cannot start (its organisers are to mend it); "
          "not counted";
      return out;
    }
    spec.argv = std::move(*argv);
    spec.inputs.push_back({program, "program"});
    spec.inputs.push_back({code_dir, "submission"});
    if (!inputs.empty()) spec.inputs.push_back({inputs, "input"});
    spec.shared_at = "shared";
    spec.workdir_at = "program";
  }
  spec.time_limit_seconds = b.rules.max_runtime_s;
  spec.memory_bytes = b.rules.max_memory_mb << 20;
  spec.max_output_bytes = b.rules.max_bytes;
  spec.max_output_files = b.task_type == "custom" ? 100 : 10;
  ASSIGN_OR_RETURN(auto result, RunProgram(s.id, std::move(spec), code_dir, s.id + ".log", ""));
  if (!result.succeeded()) {
    out.end_state = "failed";
    out.reason = fmt::format("the code did not finish: {}; not counted", result.detail);
    return out;
  }
  if (b.task_type == "custom") {
    // The organiser's scoring program reads whatever the run wrote, as Codabench's does.
    if (result.output_files.empty()) {
      out.end_state = "invalid";
      out.reason = "the code wrote nothing to its output folder";
      return out;
    }
    out.files = std::move(result.output_files);
    return out;
  }
  std::vector<std::pair<const char*, const char*>> names = {{"predictions.csv", "csv"},
                                                            {"predictions.jsonl", "jsonl"}};
  if (b.task_type == "detection") names.push_back({"predictions.json", "json"});
  for (const auto& [name, fmt_name] : names) {
    auto it = result.output_files.find(name);
    if (it != result.output_files.end()) {
      out.format = fmt_name;
      out.bytes = std::move(it->second);
      return out;
    }
  }
  out.end_state = "invalid";
  out.reason = fmt::format("the code wrote no {} to its output folder ($OPENLAB_OUTPUT)",
                           b.task_type == "detection"
                               ? "predictions.json, predictions.jsonl or predictions.csv"
                               : "predictions.csv or predictions.jsonl");
  return out;
}

ScoringService::TruthReader TruthFromDataCommons(data::DataService* data) {
  return [data](const Phase& p) -> StatusOr<std::string> {
    std::string domain;
    std::vector<data::ChunkEntry> chunks;
    RETURN_IF_ERROR(data->db()->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(auto d, data::GetDataset(tx, p.truth_dataset_id));
      domain = d.domain;
      ASSIGN_OR_RETURN(chunks, data::FileChunks(tx, d.id, p.truth_version_id, p.truth_file));
      return Status::Ok();
    }));
    std::string out;
    RETURN_IF_ERROR(data->ReadChunks(domain, chunks, [&](const std::string& bytes) {
      out += bytes;
      return Status::Ok();
    }));
    return out;
  };
}

VersionReader VersionsFromDataCommons(data::DataService* data, const std::string& dir) {
  auto mu = std::make_shared<Mutex>();
  return [data, dir, mu](const std::string& dataset_id,
                         const std::string& version_id) -> StatusOr<std::string> {
    std::string dest = dir + "/" + dataset_id + "/" + version_id;
    MutexLock l(mu.get());
    if (std::filesystem::exists(dest + "/.complete")) return dest + "/files";
    std::error_code ec;
    std::filesystem::remove_all(dest, ec);
    std::filesystem::create_directories(dest, ec);
    RETURN_IF_ERROR(data->Materialize(dataset_id, version_id, dest + "/files").status());
    RETURN_IF_ERROR(WriteMarker(dest + "/.complete"));
    return dest + "/files";
  };
}

}  // namespace openlab::validation
