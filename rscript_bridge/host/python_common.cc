#include "python_common.h"

namespace modelgate::worker_host::py {
namespace {

PyObject* g_invalid_input = nullptr;  // strong, lives as long as the process

PyModuleDef g_runtime_module = {
    PyModuleDef_HEAD_INIT,
    "modelgate_runtime",
    "What model code imports from modelgate: InvalidInput.",
    -1,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

PyObject* InitRuntimeModule() {
  Ref module(PyModule_Create(&g_runtime_module));
  if (!module) return nullptr;
  if (g_invalid_input == nullptr) {
    g_invalid_input = PyErr_NewExceptionWithDoc(
        "modelgate_runtime.InvalidInput",
        "Raise from Model.predict to answer 400 / INVALID_ARGUMENT with your message.",
        PyExc_ValueError, nullptr);
    if (g_invalid_input == nullptr) return nullptr;
  }
  Py_INCREF(g_invalid_input);
  if (PyModule_AddObject(module.get(), "InvalidInput", g_invalid_input) < 0) {
    Py_DECREF(g_invalid_input);
    return nullptr;
  }
  return module.release();
}

}  // namespace

void RegisterRuntimeModule() { PyImport_AppendInittab("modelgate_runtime", &InitRuntimeModule); }

PyObject* InvalidInputType() { return g_invalid_input; }

std::string Str(PyObject* obj) {
  Ref s(PyObject_Str(obj));
  if (!s) {
    PyErr_Clear();
    return "<str() failed>";
  }
  Ref utf8(PyUnicode_AsEncodedString(s.get(), "utf-8", "backslashreplace"));
  if (!utf8) {
    PyErr_Clear();
    return "<str() failed>";
  }
  return std::string(PyBytes_AS_STRING(utf8.get()), PyBytes_GET_SIZE(utf8.get()));
}

std::string TypeName(PyObject* obj) {
  Ref name(PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(obj)), "__name__"));
  if (!name) {
    PyErr_Clear();
    return Py_TYPE(obj)->tp_name;
  }
  return Str(name.get());
}

Failure FetchFailure() {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  Ref type_ref(type), value_ref(value), tb_ref(tb);
  Failure f;
  if (value == nullptr) {
    f.type_name = "SystemError";
    f.message = "an error was reported without an exception";
    return f;
  }
  if (tb != nullptr) PyException_SetTraceback(value, tb);
  f.type_name = TypeName(value);
  f.message = Str(value);
  f.invalid_input = g_invalid_input != nullptr && PyObject_IsInstance(value, g_invalid_input) == 1;
  f.interrupted = PyErr_GivenExceptionMatches(value, PyExc_KeyboardInterrupt) != 0;
  // traceback.format_exc(): "".join(format_exception(type, value, tb)).
  Ref module(PyImport_ImportModule("traceback"));
  Ref lines(module ? PyObject_CallMethod(module.get(), "format_exception", "OOO", type, value,
                                         tb != nullptr ? tb : Py_None)
                   : nullptr);
  Ref empty(PyUnicode_FromString(""));
  Ref text(lines && empty ? PyUnicode_Join(empty.get(), lines.get()) : nullptr);
  if (text) {
    f.traceback = Str(text.get());
  } else {
    PyErr_Clear();
    f.traceback = f.type_name + ": " + f.message + "\n";
  }
  PyErr_Clear();
  return f;
}

}  // namespace modelgate::worker_host::py
