// The R code of the embedded R runtime: load-time logic (sourcing model.R,
// the prototype's signature, the params rule) and the one closure a request
// calls, which turns R conditions into an answer. Evaluated once, at load,
// into an environment of its own (parent: the base namespace), so model code
// never sees these names. Messages match rscript_bridge/R/modelgate_runtime.R
// word for word: the integration suites compare them.
#include "r_prelude.h"

namespace modelgate::worker_host {

const char* const kRPrelude = R"mgR(
invalid_input <- function(message) {
  stop(structure(class = c("invalid_input", "error", "condition"),
                 list(message = message, call = sys.call(-1))))
}

# The model's call stack, innermost first, at most 20 calls: the frames from
# the runtime's wrapper (up to withCallingHandlers) and the handler's own are
# dropped. Each call carries " at FILE#LINE" where R kept a srcref, as
# traceback() prints it (model.R is sourced with keep.source = TRUE).
mg_traceback <- function(calls, base) {
  if (is.null(calls)) return("")
  n <- length(calls)
  first <- base + 1L
  for (i in seq_len(n)[seq_len(n) > base])
    if (identical(calls[[i]][[1L]], quote(withCallingHandlers))) { first <- i + 1L; break }
  last <- n - 1L  # the calling handler itself
  if (last >= first && identical(calls[[last]][[1L]], quote(.handleSimpleError))) last <- last - 1L
  if (last < first) return("")
  lines <- vapply(calls[first:last], function(cl) {
    line <- paste(deparse(cl, nlines = 1L), collapse = " ")
    srcref <- attr(cl, "srcref")
    file <- if (!is.null(srcref)) attr(srcref, "srcfile")$filename
    if (length(file) == 1L && nzchar(file))
      line <- paste0(line, " at ", basename(file), "#", srcref[1L])
    line
  }, "")
  paste(rev(utils::tail(lines, 20)), collapse = "\n")
}

# A model's signature from a data.frame `prototype` in model.R (like
# vetiver's input prototype; rows, if any, are ignored): one input of shape
# [-1] per column, numeric -> FP64, integer -> INT32 (R's integer is 32-bit),
# logical -> BOOL, character -> BYTES, factor -> BYTES whose levels are the
# only values a request may send. Any other column class fails the load.
mg_prototype_specs <- function(proto) {
  if (!is.data.frame(proto))
    stop(sprintf("`prototype` must be a data.frame (e.g. iris[0, 1:4]), got %s",
                 paste(class(proto), collapse = "/")))
  if (ncol(proto) == 0) stop("`prototype` has no columns")
  lapply(names(proto), function(nm) {
    col <- proto[[nm]]
    levels <- character(0)
    datatype <- if (is.factor(col)) {
      levels <- levels(col)
      "BYTES"
    } else if (length(class(col)) != 1 || is.object(col)) {
      stop(sprintf("`prototype` column '%s' has class %s, which has no V2 datatype (use numeric, integer, logical, character or factor)",
                   nm, paste(class(col), collapse = "/")))
    } else switch(typeof(col), double = "FP64", integer = "INT32", logical = "BOOL",
                  character = "BYTES",
                  stop(sprintf("`prototype` column '%s' has type %s, which has no V2 datatype (use numeric, integer, logical, character or factor)",
                               nm, typeof(col))))
    list(name = enc2utf8(nm), datatype = datatype, levels = enc2utf8(levels))
  })
}

# Factor columns of the prototype reach predict_fn as factors with the
# prototype's levels (the daemon let only those values through).
mg_factor_levels <- function(proto) {
  Filter(Negate(is.null), lapply(proto, function(col) if (is.factor(col)) levels(col)))
}

# Only a data.frame named `prototype` declares a signature: a model.R that
# uses the name for anything else loads as it did before prototypes existed.
mg_has_prototype <- function(env) {
  exists("prototype", envir = env, inherits = FALSE) && is.data.frame(env$prototype)
}

# Whether predict_fn takes the parameters: its second argument is a plain
# one without a default (function(inputs, params)). `...` and arguments with
# defaults never receive them: a one-argument model keeps working unchanged.
mg_takes_params <- function(fn) {
  f <- formals(fn)
  length(f) >= 2 && names(f)[2] != "..." && identical(f[[2]], quote(expr = ))
}

# The one R-level call per request: predict_fn's value as list(TRUE, value).
# A failure is left in `box$failure` (the host empties it before each call)
# as list(FALSE, message, calls, invalid_input, base) and the call leaves
# through R's top-level "abort" restart (the last one computeRestarts
# lists: a model's own restart named "abort" is not it), so R_tryEval
# reports it without R printing it. Calling handlers, not tryCatch: a
# request pays ~2 us for them instead of ~14 us (benchmarks/README.md).
# Being outermost, they see only conditions the model's own handlers
# declined. The handler runs at the depth of the error, which may be a stack
# overflow: it only records; mg_failure_traceback formats the calls after
# the unwind. An interrupt (the host sets R_interrupts_pending when the
# request passes its deadline) becomes a failure too, so the model stays
# loaded.
mg_abort <- function() {
  restarts <- computeRestarts()
  invokeRestart(restarts[[length(restarts)]])
}

mg_make_invoke <- function(env, with_params, box) {
  interrupted <- list(FALSE, "interrupted: the request passed its deadline", NULL, FALSE, 0L)
  function(inputs, params) {
    base <- sys.nframe()
    withCallingHandlers(
      list(TRUE, if (with_params) env$predict_fn(inputs, params) else env$predict_fn(inputs)),
      error = function(e) {
        box$failure <- list(FALSE, conditionMessage(e), sys.calls(), inherits(e, "invalid_input"),
                            base)
        mg_abort()
      },
      interrupt = function(e) {
        box$failure <- interrupted
        mg_abort()
      })
  }
}

# The traceback of a failure recorded by the wrapper ("" for invalid_input).
mg_failure_traceback <- function(failure) {
  if (isTRUE(failure[[4L]]) || is.null(failure[[3L]])) return("")
  mg_traceback(failure[[3L]], failure[[5L]])
}

mg_load <- function(model_dir, r_libs, dataframe) {
  for (lib in r_libs)
    if (!dir.exists(lib)) stop(sprintf("r_libs entry '%s' is not an existing directory", lib))
  if (length(r_libs)) .libPaths(c(r_libs, .libPaths()))
  # A model's warnings go to its log as they happen, under the request's id.
  # R's default defers them, and leaving a failed request through "abort"
  # would print them there, under another request. model.R may change it.
  options(warn = 1)
  env <- new.env(parent = globalenv())
  env$model_dir <- model_dir
  env$invalid_input <- invalid_input
  # Also global, as in the script runtime: helpers that model.R source()s
  # land in globalenv and may call it.
  assign("invalid_input", invalid_input, envir = globalenv())
  model_file <- file.path(model_dir, "model.R")
  if (!file.exists(model_file)) stop(sprintf("%s does not exist", model_file))
  sys.source(model_file, envir = env, keep.source = TRUE)
  if (!is.function(env$predict_fn)) stop(sprintf("%s defines no function predict_fn", model_file))
  has_prototype <- mg_has_prototype(env)
  box <- new.env(parent = emptyenv())
  list(invoke = mg_make_invoke(env, mg_takes_params(env$predict_fn), box),
       failure_box = box,
       failure_traceback = mg_failure_traceback,
       dataframe = dataframe || has_prototype,
       specs = if (has_prototype) mg_prototype_specs(env$prototype) else list(),
       factor_levels = if (has_prototype) mg_factor_levels(env$prototype) else list(),
       version = R.version.string)
}

# mg_load's value as list(TRUE, value) or list(FALSE, message, traceback).
mg_try_load <- function(model_dir, r_libs, dataframe) {
  base <- sys.nframe()
  calls <- NULL
  tryCatch(
    withCallingHandlers(list(TRUE, mg_load(model_dir, r_libs, dataframe)),
                        error = function(e) calls <<- sys.calls()),
    error = function(e) list(FALSE, paste("model load failed:", conditionMessage(e)),
                             mg_traceback(calls, base)))
}
)mgR";

}  // namespace modelgate::worker_host
