// The embedded CPython runtime of modelgate-worker: one interpreter, one
// loaded model.py. Behaves as the script runtime
// (rscript_bridge/python/modelgate_runtime.py) message for message, without
// interpreted code per request. The GIL is held only inside the Runtime
// calls, so threads a model starts keep running between requests.
#include "python_common.h"
// Python.h first.
#include <signal.h>

#include <exception>
#include <string>

#include "python_inputs.h"
#include "python_model.h"
#include "python_path_check.h"
#include "python_tensors.h"
#include "runtime.h"

#ifndef MODELGATE_PYTHON_EXECUTABLE
#define MODELGATE_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

namespace modelgate::worker_host {
namespace {

namespace wv1 = worker::v1;

void SetFailure(const py::Failure& f, const std::string& prefix, wv1::Error* error) {
  error->set_message(prefix + f.type_name + ": " + f.message);
  error->set_traceback(f.traceback);
}

// "3.11.2", as platform.python_version() prints it.
std::string PythonVersion() {
  const std::string full = Py_GetVersion();
  return full.substr(0, full.find(' '));
}

// Starts the interpreter as `python3 -u -B` with no signal handlers of its
// own (the host owns SIGINT); site stays on for Debian's dist-packages.
bool StartInterpreter(std::string* why) {
  py::RegisterRuntimeModule();
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;
  config.buffered_stdio = 0;
  config.write_bytecode = 0;
  config.parse_argv = 0;
  config.site_import = 1;
  // The system Python's path: prefix and sys.executable come from it, not
  // from whatever python3 PATH finds first.
  PyStatus status =
      PyConfig_SetBytesString(&config, &config.program_name, MODELGATE_PYTHON_EXECUTABLE);
  char arg0[] = "modelgate-worker";
  char* argv[] = {arg0};
  if (!PyStatus_Exception(status)) status = PyConfig_SetBytesArgv(&config, 1, argv);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    *why = std::string("cannot start Python: ") +
           (status.err_msg != nullptr ? status.err_msg : "unknown error");
    return false;
  }
  return true;
}

// sys.path = [model_dir, *python_path, <the interpreter's own>].
bool ExtendSysPath(const HostOptions& options) {
  PyObject* path = PySys_GetObject("path");  // borrowed
  if (path == nullptr || !PyList_Check(path)) {
    PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
    return false;
  }
  Py_ssize_t at = 0;
  auto insert = [&](const std::string& dir) {
    py::Ref entry(PyUnicode_DecodeFSDefault(dir.c_str()));
    return entry && PyList_Insert(path, at++, entry.get()) == 0;
  };
  if (!insert(options.model_dir)) return false;
  for (const std::string& dir : options.python_path) {
    if (!insert(dir)) return false;
  }
  return true;
}

// signal.signal(SIGINT, signal.default_int_handler): arms the Python-level
// handler PyErr_SetInterruptEx trips. The host then puts its own sigaction
// back, so only the daemon's by-id interrupts reach it.
bool ArmKeyboardInterrupt() {
  py::Ref module(PyImport_ImportModule("signal"));
  py::Ref handler(module ? PyObject_GetAttrString(module.get(), "default_int_handler") : nullptr);
  py::Ref done(handler ? PyObject_CallMethod(module.get(), "signal", "iO", SIGINT, handler.get())
                       : nullptr);
  return static_cast<bool>(done);
}

class PythonRuntime final : public Runtime {
 public:
  // The interpreter is left running (no Py_FinalizeEx): the process is
  // exiting, and finalising would wait for threads a model started. The
  // model's references are dropped with the GIL held, so its __del__ runs.
  ~PythonRuntime() override {
    if (thread_state_ == nullptr) return;  // never loaded, or the GIL is ours
    PyEval_RestoreThread(thread_state_);
    model_ = py::LoadedModel();
    predict_name_ = py::Ref();
    FlushStreams();
  }

  bool Load(const HostOptions& options, wv1::Hello* hello, wv1::Error* error) override {
    const std::string bad_path =
        CheckPythonPath(options.python_path, PY_MAJOR_VERSION, PY_MINOR_VERSION);
    if (!bad_path.empty()) {
      error->set_message("model load failed: " + bad_path);
      return false;
    }
    std::string why;
    if (!StartInterpreter(&why)) {
      error->set_message("model load failed: " + why);
      return false;
    }
    py::Ref runtime_module(PyImport_ImportModule("modelgate_runtime"));
    if (!runtime_module || !py::InitNumpy() || !ExtendSysPath(options) ||
        !py::LoadModel(options.model_dir, &model_, hello) || !ArmKeyboardInterrupt()) {
      SetFailure(py::FetchFailure(), "model load failed: ", error);
      return false;
    }
    dataframe_ = options.dataframe || model_.dataframe;
    hello->set_runtime("python");
    hello->set_runtime_version("Python " + PythonVersion() + ", numpy " + py::NumpyVersion());
    hello->set_dataframe(dataframe_);
    predict_name_ = py::Ref(PyUnicode_InternFromString("predict"));
    thread_state_ = PyEval_SaveThread();
    return true;
  }

  void Infer(wv1::Infer* infer, wv1::Frame* reply) override {
    PyEval_RestoreThread(thread_state_);
    interrupt_requested_ = 0;
    bool ok = false;
    try {
      ok = RunPredict(infer, reply->mutable_result());
    } catch (const std::exception& e) {  // std::bad_alloc converting a large tensor
      PyErr_Format(PyExc_MemoryError, "the Python runtime could not convert the request: %s",
                   e.what());
    }
    if (!ok) {
      const py::Failure f = py::FetchFailure();
      reply->clear_result();
      wv1::Error* error = reply->mutable_error();
      // A KeyboardInterrupt the model raised itself is the model's error.
      if (f.interrupted && interrupt_requested_) {
        error->set_message("KeyboardInterrupt: the request was interrupted at its deadline");
      } else {
        error->set_message(f.invalid_input ? f.message : f.type_name + ": " + f.message);
      }
      error->set_traceback(f.traceback);
      error->set_invalid_input(f.invalid_input);
    }
    thread_state_ = PyEval_SaveThread();
  }

  void Interrupt() override {
    interrupt_requested_ = 1;
#if PY_VERSION_HEX >= 0x030A0000
    PyErr_SetInterruptEx(SIGINT);
#else
    PyErr_SetInterrupt();
#endif
  }

  void ClearInterrupt() override {
    PyEval_RestoreThread(thread_state_);
    // Runs default_int_handler for a tripped SIGINT; its KeyboardInterrupt
    // belongs to no request.
    if (PyErr_CheckSignals() < 0) PyErr_Clear();
    thread_state_ = PyEval_SaveThread();
  }

  void FlushOutput() override {
    if (thread_state_ == nullptr) return;  // not loaded: nothing of Python's to flush
    PyEval_RestoreThread(thread_state_);
    FlushStreams();
    thread_state_ = PyEval_SaveThread();
  }

 private:
  // Set by Interrupt() (async-signal-safe), cleared as each request starts.
  volatile sig_atomic_t interrupt_requested_ = 0;

  static void FlushStreams() {
    for (const char* name : {"stdout", "stderr", "__stdout__", "__stderr__"}) {
      PyObject* stream = PySys_GetObject(name);  // borrowed
      if (stream == nullptr || stream == Py_None) continue;
      // A model's broken stream must not stop the answer.
      py::Ref done(PyObject_CallMethod(stream, "flush", nullptr));
      if (!done) PyErr_Clear();
    }
  }

  // predict's outputs into *result; false with a Python exception set.
  bool RunPredict(wv1::Infer* infer, wv1::Result* result) {
    py::Ref inputs(py::BuildInputs(infer, dataframe_, model_.levels.get()));
    if (!inputs) return false;
    py::Ref params;
    if (model_.takes_parameters) {
      params = py::Ref(py::BuildParameters(*infer));
      if (!params) return false;
    }
    PyObject* args[] = {model_.model.get(), inputs.get(), params.get()};
    py::Ref value(PyObject_VectorcallMethod(predict_name_.get(), args, params ? 3 : 2, nullptr));
    if (!value) return false;
    py::Ref items = OutputItems(value.get());
    if (!items) return false;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items.get()); ++i) {
      PyObject* pair = PyList_GET_ITEM(items.get(), i);
      PyObject *name = nullptr, *output = nullptr;
      if (!PyArg_ParseTuple(pair, "OO", &name, &output)) return false;
      if (!py::EncodeOutput(py::Str(name), output, result->add_outputs())) return false;
    }
    return true;
  }

  // list(result.items()) of a DataFrame or a dict, else the TypeError.
  static py::Ref OutputItems(PyObject* value) {
    const bool is_frame =
        PyObject_HasAttrString(value, "columns") && PyObject_HasAttrString(value, "items");
    if (!is_frame && !PyDict_Check(value)) {
      const std::string msg =
          "predict must return a dict of arrays (or a DataFrame), got " + py::TypeName(value);
      PyErr_SetString(PyExc_TypeError, msg.c_str());
      return py::Ref();
    }
    py::Ref items(PyObject_CallMethod(value, "items", nullptr));
    return items ? py::Ref(PySequence_List(items.get())) : py::Ref();
  }

  py::LoadedModel model_;
  py::Ref predict_name_;
  bool dataframe_ = false;
  PyThreadState* thread_state_ = nullptr;
};

}  // namespace

std::unique_ptr<Runtime> MakePythonRuntime() { return std::make_unique<PythonRuntime>(); }

}  // namespace modelgate::worker_host
