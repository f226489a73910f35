// The embedded R runtime: libR started with R's embedding API, model.R
// loaded by the prelude's mg_try_load (r_prelude.cc), and per request one
// R-level call (the wrapper closure around predict_fn) between C++
// conversions (r_tensors.h).
//
// Every entry into R goes through R_ToplevelExec (R_tryEval uses it too), so
// an R error or interrupt never longjmps through C++ frames of the host.
#include <csignal>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "r_prelude.h"
#include "r_tensors.h"
#include "runtime.h"

#define R_NO_REMAP
#include <Rinternals.h>
// After Rinternals.h, which they use.
#include <R_ext/Parse.h>
#include <R_ext/eventloop.h>
#include <Rembedded.h>
#include <Rinterface.h>

// Not in R's public headers, but exported by libR: what R's own SIGINT
// handler sets; R turns it into an `interrupt` condition at its next check
// (the eval loop, Sys.sleep, R_CheckUserInterrupt in packages).
extern "C" int R_interrupts_pending;

namespace modelgate::worker_host {
namespace {

namespace wv1 = worker::v1;

// Set by Interrupt() (a signal handler) for the running request: R may act
// on R_interrupts_pending before the wrapper's handlers are in place.
volatile sig_atomic_t g_interrupted = 0;
constexpr const char* kInterrupted = "interrupted: the request passed its deadline";

// SIGINT's action as the host installed it, saved when a request starts.
// R's select loop (Sys.sleep, connections) installs its own handler while
// it waits and restores the host's with signal(), which drops SA_SIGINFO,
// so the host's handler would no longer see the request id. R calls
// R_PolledEvents at each interrupt check (the eval loop): put the host's
// action back there, and once more when the request ends.
struct sigaction g_host_action {};

void RestoreHostAction() {
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  if (now.sa_sigaction != g_host_action.sa_sigaction ||
      (now.sa_flags & SA_SIGINFO) != (g_host_action.sa_flags & SA_SIGINFO))
    sigaction(SIGINT, &g_host_action, nullptr);
}

#ifndef MODELGATE_R_HOME
#define MODELGATE_R_HOME "/usr/lib/R"
#endif

// The value of `expr` evaluated in `env`, or nullptr when R signalled an
// error (R prints it to stderr, the model's log).
SEXP TryEval(SEXP expr, SEXP env) {
  int failed = 0;
  SEXP value = R_tryEval(expr, env, &failed);
  return failed ? nullptr : value;
}

std::string StringElt(SEXP list, int i) {
  SEXP v = VECTOR_ELT(list, i);
  if (TYPEOF(v) != STRSXP || Rf_xlength(v) < 1 || STRING_ELT(v, 0) == NA_STRING) return "";
  return Rf_translateCharUTF8(STRING_ELT(v, 0));
}

SEXP Field(SEXP list, const char* name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  for (R_xlen_t i = 0; i < Rf_xlength(list); ++i)
    if (std::string(CHAR(STRING_ELT(names, i))) == name) return VECTOR_ELT(list, i);
  return R_NilValue;
}

SEXP StringVector(const std::vector<std::string>& values) {
  SEXP out = PROTECT(Rf_allocVector(STRSXP, static_cast<R_xlen_t>(values.size())));
  for (size_t i = 0; i < values.size(); ++i)
    SET_STRING_ELT(out, static_cast<R_xlen_t>(i),
                   Rf_mkCharLenCE(values[i].data(), static_cast<int>(values[i].size()), CE_UTF8));
  UNPROTECT(1);
  return out;
}

// What one request's conversions and call produce, filled inside
// R_ToplevelExec (RunRequest) so nothing there unwinds C++ frames.
struct Request {
  wv1::Infer* infer;
  SEXP call;               // invoke(inputs, params), arguments replaced per request
  SEXP failure_box;        // where invoke leaves a failure (r_prelude.cc)
  SEXP failure_traceback;  // mg_failure_traceback
  bool dataframe;
  SEXP factor_levels;
  wv1::Frame* reply;
};

SEXP FailureSymbol() {
  static SEXP symbol = Rf_install("failure");
  return symbol;
}

// The failure invoke recorded (r_prelude.cc) as the reply's error.
void ReplyFailure(const Request& r, SEXP failure) {
  wv1::Error* error = r.reply->mutable_error();
  error->set_message(StringElt(failure, 1));
  error->set_invalid_input(LOGICAL(VECTOR_ELT(failure, 3))[0] == 1);
  if (error->invalid_input()) return;
  // Formatted here, after the unwind: the handler may have run at the depth
  // of a stack overflow.
  SEXP call = PROTECT(Rf_lang2(r.failure_traceback, failure));
  SEXP traceback = TryEval(call, R_GlobalEnv);
  if (traceback != nullptr && TYPEOF(traceback) == STRSXP && Rf_xlength(traceback) == 1 &&
      STRING_ELT(traceback, 0) != NA_STRING)
    error->set_traceback(Rf_translateCharUTF8(STRING_ELT(traceback, 0)));
  UNPROTECT(1);
}

void RunRequestBody(Request* r) {
  std::string problem;
  SEXP inputs = DecodeInputs(*r->infer, r->dataframe, r->factor_levels, &problem);
  if (inputs == nullptr) {
    wv1::Error* error = r->reply->mutable_error();
    error->set_message(problem);
    error->set_invalid_input(true);
    return;
  }
  PROTECT(inputs);
  SEXP params = PROTECT(DecodeParams(*r->infer));
  SETCADR(r->call, inputs);
  SETCADDR(r->call, params);
  // Emptied here, not in R: an interrupt may stop R before its first step.
  Rf_defineVar(FailureSymbol(), R_NilValue, r->failure_box);
  // R's last error message, emptied so what is there afterwards is this
  // request's: R writes it only on its default error path, which a request
  // reaches when the handler itself fails (a stack overflow leaves it no
  // room to run). R_curErrorBuf is R's own static buffer.
  const_cast<char*>(R_curErrorBuf())[0] = '\0';
  int failed = 0;
  SEXP answer = R_tryEval(r->call, R_GlobalEnv, &failed);
  SETCADR(r->call, R_NilValue);
  SETCADDR(r->call, R_NilValue);
  UNPROTECT(2);
  if (!failed && TYPEOF(answer) == VECSXP && Rf_xlength(answer) >= 2) {
    PROTECT(answer);
    if (!EncodeOutputs(VECTOR_ELT(answer, 1), r->reply->mutable_result(), &problem)) {
      r->reply->clear_result();
      r->reply->mutable_error()->set_message(problem);
    }
    UNPROTECT(1);
    return;
  }
  if (g_interrupted) {
    r->reply->mutable_error()->set_message(kInterrupted);
    return;
  }
  SEXP failure = Rf_findVarInFrame(r->failure_box, FailureSymbol());
  if (TYPEOF(failure) == VECSXP && Rf_xlength(failure) == 5) {
    PROTECT(failure);
    ReplyFailure(*r, failure);
    UNPROTECT(1);
    return;
  }
  // Left some other way: an error the handler could not record (R's
  // message is this request's), or a restart the model invoked itself.
  std::string last = R_curErrorBuf();
  while (!last.empty() && (last.back() == '\n' || last.back() == ' ')) last.pop_back();
  r->reply->mutable_error()->set_message(
      last.empty() ? "the R runtime's request wrapper failed (see the model's log)" : last);
}

// A C++ exception (std::bad_alloc converting a large tensor) must not
// unwind through R's frames: it ends here, as that request's error.
void RunRequest(void* data) {
  auto* r = static_cast<Request*>(data);
  try {
    RunRequestBody(r);
  } catch (const std::exception& e) {
    r->reply->clear_result();
    r->reply->mutable_error()->set_message(
        std::string("the R runtime could not convert the request: ") + e.what());
  }
}

class RRuntime final : public Runtime {
 public:
  bool Load(const HostOptions& options, wv1::Hello* hello, wv1::Error* error) override {
    if (!StartR()) {
      error->set_message("model load failed: R did not start (is R_HOME right?)");
      return false;
    }
    SEXP prelude = EvalPrelude();
    if (prelude == nullptr) {
      error->set_message("model load failed: the R runtime's prelude did not evaluate");
      return false;
    }
    SEXP call =
        PROTECT(Rf_lang4(Rf_install("mg_try_load"), Rf_mkString(options.model_dir.c_str()),
                         StringVector(options.r_libs), Rf_ScalarLogical(options.dataframe)));
    SEXP answer = TryEval(call, prelude);
    UNPROTECT(1);
    if (answer == nullptr) {
      error->set_message("model load failed: the R runtime's loader failed (see the log)");
      return false;
    }
    PROTECT(answer);
    if (!LOGICAL(VECTOR_ELT(answer, 0))[0]) {
      error->set_message(StringElt(answer, 1));
      error->set_traceback(StringElt(answer, 2));
      UNPROTECT(1);
      return false;
    }
    SEXP loaded = VECTOR_ELT(answer, 1);
    R_PreserveObject(loaded);  // lives as long as the process
    UNPROTECT(1);

    dataframe_ = LOGICAL(Field(loaded, "dataframe"))[0] == 1;
    factor_levels_ = Field(loaded, "factor_levels");
    call_ = Rf_lang3(Field(loaded, "invoke"), R_NilValue, R_NilValue);
    R_PreserveObject(call_);
    failure_box_ = Field(loaded, "failure_box");
    failure_traceback_ = Field(loaded, "failure_traceback");

    hello->set_runtime("r");
    hello->set_runtime_version(Rf_translateCharUTF8(STRING_ELT(Field(loaded, "version"), 0)));
    hello->set_dataframe(dataframe_);
    SEXP specs = Field(loaded, "specs");
    for (R_xlen_t i = 0; i < Rf_xlength(specs); ++i) {
      SEXP spec = VECTOR_ELT(specs, i);
      wv1::TensorSpec* s = hello->add_inputs();
      s->set_name(StringElt(spec, 0));
      s->set_datatype(StringElt(spec, 1));
      s->add_shape(-1);
      SEXP levels = VECTOR_ELT(spec, 2);
      for (R_xlen_t k = 0; k < Rf_xlength(levels); ++k)
        s->add_levels(Rf_translateCharUTF8(STRING_ELT(levels, k)));
    }
    if (hello->inputs_size() > 0)
      hello->set_signature_source("the prototype data.frame in model.R");
    return true;
  }

  void Infer(wv1::Infer* infer, wv1::Frame* reply) override {
    // The host installs its action after Load and never changes it: read once.
    if (!host_action_saved_) {
      sigaction(SIGINT, nullptr, &g_host_action);
      host_action_saved_ = true;
    }
    void (*const polled)() = R_PolledEvents;
    R_PolledEvents = RestoreHostAction;
    Request request{infer,      call_,          failure_box_, failure_traceback_,
                    dataframe_, factor_levels_, reply};
    if (!R_ToplevelExec(RunRequest, &request)) {
      reply->clear_result();
      reply->mutable_error()->set_message(
          g_interrupted ? kInterrupted
                        : "the R runtime failed converting the request or its answer "
                          "(out of memory?)");
    }
    R_PolledEvents = polled;
    RestoreHostAction();
  }

  void Interrupt() override {
    g_interrupted = 1;
    R_interrupts_pending = 1;
  }
  void ClearInterrupt() override {
    g_interrupted = 0;
    R_interrupts_pending = 0;
  }
  // cat()/print() write to C's stdout, message() to stderr: the host's
  // fflush covers both.
  void FlushOutput() override {}

 private:
  bool host_action_saved_ = false;
  static bool StartR() {
    if (std::getenv("R_HOME") == nullptr) ::setenv("R_HOME", MODELGATE_R_HOME, 1);
    // The host owns SIGINT (and every other signal): R installs no handlers.
    R_SignalHandlers = 0;
    const char* argv[] = {"modelgate-worker", "--vanilla", "--silent", "--no-echo",
                          "--no-readline"};
    if (Rf_initEmbeddedR(sizeof argv / sizeof argv[0], const_cast<char**>(argv)) == 0) return false;
    R_Interactive = FALSE;
    return true;
  }

  // The prelude evaluated into an environment of its own (parent: base).
  static SEXP EvalPrelude() {
    SEXP env = R_NewEnv(R_BaseEnv, TRUE, 29);
    R_PreserveObject(env);
    SEXP text = PROTECT(Rf_mkString(kRPrelude));
    ParseStatus status;
    SEXP exprs = PROTECT(R_ParseVector(text, -1, &status, R_NilValue));
    if (status != PARSE_OK) {
      UNPROTECT(2);
      return nullptr;
    }
    for (R_xlen_t i = 0; i < Rf_xlength(exprs); ++i) {
      if (TryEval(VECTOR_ELT(exprs, i), env) == nullptr) {
        UNPROTECT(2);
        return nullptr;
      }
    }
    UNPROTECT(2);
    return env;
  }

  bool dataframe_ = false;
  SEXP factor_levels_ = R_NilValue;  // kept alive by the preserved load value
  SEXP call_ = R_NilValue;
  SEXP failure_box_ = R_NilValue;        // kept alive by the preserved load value
  SEXP failure_traceback_ = R_NilValue;  // likewise
};

}  // namespace

std::unique_ptr<Runtime> MakeRRuntime() { return std::make_unique<RRuntime>(); }

}  // namespace modelgate::worker_host
