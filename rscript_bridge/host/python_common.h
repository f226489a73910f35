// Shared pieces of the embedded CPython runtime (python_*.cc): the owning
// reference type and the conversion of a raised Python exception into the
// worker's Error fields. Include first in every python_*.cc (Python.h must
// precede the standard headers). All of it runs with the GIL held.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <utility>

namespace modelgate::worker_host::py {

// Owns one strong reference (or none); the C API's "new reference" results
// go straight into one.
class Ref {
 public:
  Ref() = default;
  explicit Ref(PyObject* owned) : p_(owned) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref& operator=(Ref&& o) noexcept {
    if (this != &o) {
      Py_XDECREF(p_);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~Ref() { Py_XDECREF(p_); }

  static Ref Borrow(PyObject* borrowed) {
    Py_XINCREF(borrowed);
    return Ref(borrowed);
  }
  PyObject* get() const { return p_; }
  PyObject* release() { return std::exchange(p_, nullptr); }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  PyObject* p_ = nullptr;
};

// A raised exception as the worker reports it.
struct Failure {
  std::string type_name;  // type(e).__name__
  std::string message;    // str(e)
  std::string traceback;  // traceback.format_exc()'s text
  bool invalid_input = false;
  bool interrupted = false;  // KeyboardInterrupt
};

// Takes the current exception (one must be set) and clears it.
Failure FetchFailure();

// str(obj) as UTF-8 (surrogates escaped); on failure a placeholder, error cleared.
std::string Str(PyObject* obj);

// type(obj).__name__.
std::string TypeName(PyObject* obj);

// The modelgate_runtime built-in module's InvalidInput (borrowed; set once
// the module is imported).
PyObject* InvalidInputType();

// Registers the built-in modelgate_runtime module; call before the
// interpreter starts.
void RegisterRuntimeModule();

}  // namespace modelgate::worker_host::py
