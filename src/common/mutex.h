// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with the annotations of
// common/thread_annotations.h, so that clang's thread-safety analysis checks the state a lock
// guards. Use these, not std::mutex, for every lock in src/ (libstdc++ does not annotate its own).
//
//   class Counter {
//    public:
//     void Add(int n) EXCLUDES(mu_) {
//       MutexLock lock(&mu_);
//       total_ += n;
//       changed_.SignalAll();
//     }
//     void WaitFor(int n) EXCLUDES(mu_) {
//       MutexLock lock(&mu_);
//       while (total_ < n) changed_.Wait(&mu_);
//     }
//    private:
//     Mutex mu_;
//     CondVar changed_;
//     int total_ GUARDED_BY(mu_) = 0;
//   };
//
// Contract:
// - Mutex is exclusive and not recursive: a thread that locks a Mutex it holds deadlocks. Only the
//   thread that locked it unlocks it. It is neither copyable nor movable.
// - AssertHeld() tells the analysis that the calling thread holds the mutex; builds without
//   NDEBUG also check it at run time (the mutex remembers its holder).
// - CondVar waits atomically release the mutex and hold it again when they return. They may wake
//   spuriously: wait in a loop on the condition, as above.
// Thread-safety: every member of all three may be called from any thread.
#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "common/thread_annotations.h"

namespace openlab {

class CAPABILITY("mutex") Mutex {
 public:
  // Constant-initialised, like std::mutex: a global Mutex is ready before any code runs.
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() {
    mu_.lock();
    SetHolder();
  }
  void Unlock() RELEASE() {
    ClearHolder();
    mu_.unlock();
  }
  // Locks the mutex if no thread holds it; true if it did.
  bool TryLock() TRY_ACQUIRE(true) {
    if (!mu_.try_lock()) return false;
    SetHolder();
    return true;
  }
  // REQUIRES: the calling thread holds this mutex (checked only in builds without NDEBUG).
  void AssertHeld() const ASSERT_CAPABILITY(this) {
    assert(holder_.load(std::memory_order_relaxed) == ThisThread());
  }

 private:
  friend class CondVar;

  // The holder, for AssertHeld; kept in every build so the layout does not depend on NDEBUG.
  // A thread is named by the address of a thread_local of its own.
  static const void* ThisThread() {
    static thread_local const char tag = 0;
    return &tag;
  }
  void SetHolder() { holder_.store(ThisThread(), std::memory_order_relaxed); }
  void ClearHolder() { holder_.store(nullptr, std::memory_order_relaxed); }
  std::atomic<const void*> holder_{nullptr};
  std::mutex mu_;
};

// Holds a Mutex for its scope:
//   { MutexLock lock(&mu_); ... }
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable for Mutex. Signal/SignalAll may be called with or without the mutex held.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases *mu, blocks until signalled (or a spurious wakeup), and locks *mu again.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->ClearHolder();
    cv_.wait(lock);
    mu->SetHolder();
    lock.release();  // *mu stays locked: the caller's
  }
  // As Wait, but also returns once `deadline` has passed: std::cv_status::timeout then.
  std::cv_status WaitUntil(Mutex* mu, std::chrono::steady_clock::time_point deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->ClearHolder();
    std::cv_status s = cv_.wait_until(lock, deadline);
    mu->SetHolder();
    lock.release();
    return s;
  }
  // Wakes one waiting thread / all of them.
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace openlab
