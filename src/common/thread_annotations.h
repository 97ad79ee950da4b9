// Thread-safety annotations: the names of clang's thread-safety attributes, which
// `-Wthread-safety` checks at compile time (the clang build of openlab makes its warnings errors).
// Other compilers see nothing: every macro expands to nothing there.
//
// Use them with the annotated Mutex of common/mutex.h (std::mutex carries no annotations):
//
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;      // read or written only with mu_ held
//   Widget* w_ PT_GUARDED_BY(mu_);       // *w_ only with mu_ held (w_ itself is not guarded)
//   void BumpLocked() REQUIRES(mu_);     // the caller holds mu_
//   void Bump() EXCLUDES(mu_);           // the caller does not hold mu_ (the function takes it)
//
// The analysis follows locks within one function and trusts these annotations at calls; it does
// not see through lambdas, function pointers or aliasing, so an annotation states the contract and
// the compiler checks each function against the contracts of what it calls.
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.
#pragma once

#if defined(__clang__)
#define OPENLAB_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OPENLAB_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are capabilities (locks), named `x` in diagnostics.
#define CAPABILITY(x) OPENLAB_THREAD_ANNOTATION(capability(x))
// On a class: an RAII object that holds a capability for its lifetime.
#define SCOPED_CAPABILITY OPENLAB_THREAD_ANNOTATION(scoped_lockable)

// On a data member (or global): read and written only with the capability held.
#define GUARDED_BY(x) OPENLAB_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member: what it points to is read and written only with the capability held.
#define PT_GUARDED_BY(x) OPENLAB_THREAD_ANNOTATION(pt_guarded_by(x))

// On a capability member: the lock order (`-Wthread-safety-beta` checks it).
#define ACQUIRED_BEFORE(...) OPENLAB_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) OPENLAB_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))

// On a function: the caller holds the capabilities (exclusively / at least shared), and still
// holds them when it returns.
#define REQUIRES(...) OPENLAB_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) OPENLAB_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// On a function: the caller must not hold the capabilities (the function takes them itself).
#define EXCLUDES(...) OPENLAB_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it acquires / releases the capabilities (none named: `this`, for members).
#define ACQUIRE(...) OPENLAB_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) OPENLAB_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) OPENLAB_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) OPENLAB_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// On a function: acquires the capabilities if it returns `x` (the first argument).
#define TRY_ACQUIRE(...) OPENLAB_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: returns only if the calling thread holds the capability; from then on the
// analysis assumes it does.
#define ASSERT_CAPABILITY(x) OPENLAB_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns (a reference to) the capability `x`.
#define RETURN_CAPABILITY(x) OPENLAB_THREAD_ANNOTATION(lock_returned(x))

// On a function: not checked. Each use says why in a comment; prefer restructuring the code.
#define NO_THREAD_SAFETY_ANALYSIS OPENLAB_THREAD_ANNOTATION(no_thread_safety_analysis)
