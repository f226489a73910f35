// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
// With clang, -Wthread-safety (cmake/warnings.cmake) checks them at compile
// time: a member marked GUARDED_BY(mu_) touched without mu_ held fails the
// build. With gcc they expand to nothing.
//
// std::mutex is not annotated in libstdc++: lock through common/mutex.h.
//
// Abseil (through gRPC's headers) defines GUARDED_BY, PT_GUARDED_BY and
// NO_THREAD_SAFETY_ANALYSIS with the same meaning: whichever header comes
// first defines them (a redefinition in a system header is not reported).
#pragma once

#if defined(__clang__)
#define MODELGATE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MODELGATE_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (a "capability"): Mutex.
#define CAPABILITY(x) MODELGATE_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a capability for its lifetime: MutexLock.
#define SCOPED_CAPABILITY MODELGATE_THREAD_ANNOTATION(scoped_lockable)
// A data member read or written only with the capability held.
#ifndef GUARDED_BY
#define GUARDED_BY(x) MODELGATE_THREAD_ANNOTATION(guarded_by(x))
#endif
// A pointer member whose pointee is accessed only with the capability held.
#ifndef PT_GUARDED_BY
#define PT_GUARDED_BY(x) MODELGATE_THREAD_ANNOTATION(pt_guarded_by(x))
#endif
// A function the caller must call with the capabilities held.
#define REQUIRES(...) MODELGATE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// A function the caller must call without the capabilities held (it takes them).
#define EXCLUDES(...) MODELGATE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// A function that acquires / releases the capabilities (no argument: `this`).
#define ACQUIRE(...) MODELGATE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) MODELGATE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// A function returning a reference to the capability.
#define RETURN_CAPABILITY(x) MODELGATE_THREAD_ANNOTATION(lock_returned(x))
// Opts one function out of the analysis; say why at each use.
#ifndef NO_THREAD_SAFETY_ANALYSIS
#define NO_THREAD_SAFETY_ANALYSIS MODELGATE_THREAD_ANNOTATION(no_thread_safety_analysis)
#endif
