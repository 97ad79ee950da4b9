#include "validation/service.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "common/log.h"
#include "data/catalog/datasets.h"
#include "data/service.h"

namespace openlab::validation {

namespace {

bool SafeId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

Status Errno(const std::string& what) {
  return Internal(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

ScoringService::ScoringService(store::Database* db, Clock* clock, TruthReader truth,
                               ScoringOptions o)
    : db_(db), clock_(clock), truth_reader_(std::move(truth)), opts_(std::move(o)) {
  if (opts_.owner.empty()) opts_.owner = "scorer-" + RandomToken(8);
}

ScoringService::~ScoringService() { Stop(); }

void ScoringService::Start() {
  if (thread_.joinable()) return;
  {
    MutexLock l(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void ScoringService::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
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
  auto truth = TruthOf(b, *phase);
  if (!truth.ok()) {
    return end_unscored("failed",
                        "the centre could not read the ground truth; the organisers "
                        "are told, and a re-score follows once it is mended");
  }
  auto bytes = ReadFile(s.id);
  if (!bytes.ok()) return end_unscored("failed", "the centre lost the predictions file");
  if (Sha256Hex(*bytes) != s.sha256) {
    return end_unscored("failed", "the stored predictions file does not match its digest");
  }
  auto preds = ParsePredictions(**truth, s.format, *bytes);
  if (!preds.ok()) return end_unscored("invalid", preds.status().message());
  std::vector<std::string> names;
  for (const auto& m : b.metrics) names.push_back(m.name);
  auto scores = Score(**truth, *preds, names);
  if (!scores.ok()) return end_unscored("invalid", scores.status().message());
  return db_->Write([&](store::Tx& tx) {
    return FinishScoring(tx, s.id, opts_.owner, phase->truth_version_id, scores->pub, scores->priv,
                         clock_->NowMs())
        .status();
  });
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

}  // namespace openlab::validation
