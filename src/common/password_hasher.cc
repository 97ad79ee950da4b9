#include "common/password_hasher.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "common/crypto.h"

namespace openlab {

StatusOr<std::string> Argon2idHasher::Hash(std::string_view password) {
  return HashPassword(password);
}

StatusOr<bool> Argon2idHasher::Verify(std::string_view password, const std::string& hash) {
  return VerifyPassword(password, hash);
}

int DefaultHashThreads() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores / 2, 1, 4);
}

HashPool::HashPool(PasswordHasher* inner, HashPoolOptions opts) : inner_(inner) {
  int threads = opts.threads > 0 ? opts.threads : DefaultHashThreads();
  queue_limit_ = opts.queue > 0 ? opts.queue : 4 * threads;
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

HashPool::~HashPool() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  changed_.SignalAll();
  for (auto& t : workers_) t.join();
}

int HashPool::queued() const {
  MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

void HashPool::Work() {
  // Below the threads that serve requests (Linux nice is per thread): a hash takes tens of ms
  // of a core, and a request that needs the core now should not wait for it.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  for (;;) {
    std::function<void()> work;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) changed_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and nothing is left to do
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

Status HashPool::Run(std::function<void()> work) {
  // The caller waits on its own flag, set by the pool thread once `work` has run.
  struct Turn {
    Mutex mu;
    CondVar done_cv;
    bool done GUARDED_BY(mu) = false;
  };
  auto turn = std::make_shared<Turn>();
  {
    MutexLock lock(&mu_);
    if (stopping_) return Unavailable("the server is stopping").WithKind(kHashingBusyKind);
    if (static_cast<int>(queue_.size()) >= queue_limit_) {
      return Unavailable(fmt::format("too many password checks are waiting ({}); retry shortly",
                                     queue_limit_))
          .WithKind(kHashingBusyKind);
    }
    queue_.emplace_back([turn, work = std::move(work)] {
      work();
      MutexLock lock(&turn->mu);
      turn->done = true;
      turn->done_cv.SignalAll();
    });
  }
  changed_.Signal();
  MutexLock lock(&turn->mu);
  while (!turn->done) turn->done_cv.Wait(&turn->mu);
  return Status::Ok();
}

StatusOr<std::string> HashPool::Hash(std::string_view password) {
  StatusOr<std::string> out = Internal("the password was not hashed");
  RETURN_IF_ERROR(Run([&] { out = inner_->Hash(password); }));
  return out;
}

StatusOr<bool> HashPool::Verify(std::string_view password, const std::string& hash) {
  StatusOr<bool> out = Internal("the password was not verified");
  RETURN_IF_ERROR(Run([&] { out = inner_->Verify(password, hash); }));
  return out;
}

}  // namespace openlab
