# modelgate R worker runtime.
#
# Loads one model version directory (model.R defining predict_fn(inputs)) and
# answers modelgate.worker.v1 frames: reads from fd 3, writes to fd 4 (see
# proto/worker.proto). Model code may print freely: stdout and stderr go to
# the daemon's log, never into the frame stream.
#
# Model authors use only invalid_input(message), which answers the request
# with 400 / INVALID_ARGUMENT and the message. predict_fn(inputs, params)
# receives the request's parameters as a named list when it takes 2+
# arguments (or ...); predict_fn(inputs) models never see them. A
# data.frame `prototype` in model.R declares the inputs (mg_prototype_specs).

mg_protocol_version <- 1L
# The frame limit is the daemon's (kMaxFrameBytes in src/common/limits.h),
# passed in MODELGATE_MAX_FRAME_BYTES; the protocol's 64 MiB default applies
# only when the runtime is started without it (e.g. by hand). R reads the
# 4-byte length as a signed integer, so at most 2^31 - 1 is usable.
mg_frame_limit <- function(value = Sys.getenv("MODELGATE_MAX_FRAME_BYTES", unset = NA)) {
  if (is.na(value)) return(64 * 1024 * 1024)
  if (!grepl("^[0-9]{1,10}$", value) || as.numeric(value) < 1 || as.numeric(value) > 2^31 - 1)
    stop(sprintf("MODELGATE_MAX_FRAME_BYTES='%s' is not a frame size in bytes", substr(value, 1, 32)))
  as.numeric(value)
}
mg_max_frame_bytes <- mg_frame_limit()

invalid_input <- function(message) {
  stop(structure(class = c("invalid_input", "error", "condition"),
                 list(message = message, call = sys.call(-1))))
}

mg_read_exact <- function(con, n) {
  buf <- readBin(con, "raw", n = n)
  # readBin on a pipe may return short; keep reading until n bytes or EOF.
  while (length(buf) < n) {
    more <- readBin(con, "raw", n = n - length(buf))
    if (length(more) == 0) break
    buf <- c(buf, more)
  }
  buf
}

mg_read_frame <- function(con) {
  header <- mg_read_exact(con, 4)
  if (length(header) == 0) return(NULL)
  if (length(header) < 4) stop("truncated frame header")
  len <- readBin(header, "integer", size = 4, endian = "little")
  if (len < 0 || len > mg_max_frame_bytes)
    stop(sprintf("frame length %d exceeds max %d", len, mg_max_frame_bytes))
  body <- if (len > 0) mg_read_exact(con, len) else raw(0)
  if (length(body) < len) stop("truncated frame body")
  read(mg_d$Frame, body)
}

# Pushes what the model printed into the stdout/stderr pipes before each
# frame: the daemon reads them when an answer arrives and tags each line with
# the request's id, so a request's output must be there before its answer.
# flush(stdout()) is C's fflush(stdout), which also covers native code's printf.
mg_flush_output <- function() {
  flush(stdout())
  flush(stderr())
}

mg_write_frame <- function(con, frame) {
  body <- serialize(frame, NULL)
  mg_flush_output()
  writeBin(c(writeBin(length(body), raw(), size = 4, endian = "little"), body), con)
  flush(con)  # without it the daemon waits forever
}

# Unsigned little-endian integers of `size` bytes, as doubles: R has no
# int64, so 64-bit values are exact up to 2^53.
mg_read_uint <- function(raw, n, size) {
  if (n == 0) return(numeric(0))
  colSums(matrix(as.numeric(as.integer(raw)), nrow = size) * 256^(seq_len(size) - 1))
}

# Negative values are decoded from their complement, so small magnitudes stay
# exact (2^64 - 5 is not representable as a double, 4 is).
mg_read_int64 <- function(raw, n) {
  if (n == 0) return(numeric(0))
  m <- matrix(as.numeric(as.integer(raw)), nrow = 8)
  neg <- m[8, ] >= 128
  m[, neg] <- 255 - m[, neg]
  v <- colSums(m * 256^(0:7))
  ifelse(neg, -v - 1, v)
}

mg_item_size <- c(FP64 = 8, FP32 = 4, INT64 = 8, INT32 = 4, INT16 = 2, INT8 = 1,
                  UINT64 = 8, UINT32 = 4, UINT16 = 2, UINT8 = 1, BOOL = 1)

# FP32 as doubles; FP32 NA (the quiet NaN 0x7FC007A2, see the README's
# missing-value rule) becomes NA_real_, which C's widening would make NaN.
mg_read_fp32 <- function(raw, n) {
  v <- readBin(raw, "double", n = n, size = 4, endian = "little")
  nan <- which(is.nan(v))
  if (length(nan)) {
    at <- (nan - 1) * 4
    na <- raw[at + 1] == as.raw(0xa2) & raw[at + 2] == as.raw(0x07) &
      (raw[at + 3] & as.raw(0x3f)) == as.raw(0)
    v[nan[na]] <- NA_real_
  }
  v
}

# RProtoBuf field access costs ~10 us each: every field is read exactly once.
mg_decode_values <- function(name, datatype, raw, strings, n) {
  switch(datatype,
    FP64 = readBin(raw, "double", n = n, size = 8, endian = "little"),
    FP32 = mg_read_fp32(raw, n),
    INT32 = readBin(raw, "integer", n = n, size = 4, endian = "little"),
    INT16 = readBin(raw, "integer", n = n, size = 2, endian = "little"),
    INT8 = readBin(raw, "integer", n = n, size = 1, signed = TRUE),
    UINT8 = readBin(raw, "integer", n = n, size = 1, signed = FALSE),
    UINT16 = readBin(raw, "integer", n = n, size = 2, signed = FALSE, endian = "little"),
    UINT32 = mg_read_uint(raw, n, 4),
    INT64 = mg_read_int64(raw, n),
    UINT64 = mg_read_uint(raw, n, 8),
    BOOL = as.logical(as.integer(raw)),
    BYTES = mg_decode_bytes(strings()),
    invalid_input(sprintf("input '%s': datatype %s is not supported by the R runtime",
                          name, datatype)))
}

# BYTES elements (raw vectors) as the model sees them: a character vector
# when every element is UTF-8 without NUL (an R string cannot hold NUL), else
# a list whose elements are each a string or, where not text, a raw vector.
mg_decode_bytes <- function(strings) {
  text <- vapply(strings, function(r) !any(r == as.raw(0L)) && validUTF8(rawToChar(r)), NA)
  as_text <- function(r) {
    s <- rawToChar(r)
    Encoding(s) <- "UTF-8"
    s
  }
  if (all(text)) return(vapply(strings, as_text, "", USE.NAMES = FALSE))
  out <- strings
  out[text] <- lapply(strings[text], as_text)
  out
}

# Row-major flat data to an R object: a vector for rank <= 1, else an array.
mg_decode_tensor <- function(t) {
  name <- t$name
  datatype <- t$datatype
  shape <- as.numeric(t$shape)
  raw <- if (datatype == "BYTES") raw(0) else t$raw
  n <- if (length(shape) == 0) 1 else prod(shape)
  size <- mg_item_size[datatype]
  if (!is.na(size) && length(raw) != n * size)
    invalid_input(sprintf("input '%s': shape [%s] of %s needs %d bytes, got %d", name,
                          paste(shape, collapse = ","), datatype, n * size, length(raw)))
  values <- mg_decode_values(name, datatype, raw, function() t$strings, n)
  if (length(values) != n)
    invalid_input(sprintf("input '%s': shape [%s] needs %d elements, got %d",
                          name, paste(shape, collapse = ","), n, length(values)))
  if (length(shape) > 1) values <- aperm(array(values, dim = rev(shape)))
  list(name = name, value = values)
}

# Missing values: a double's NA_real_ and NaN travel bit-exactly (the daemon
# keeps them apart, see the README's missing-value rule). NA in a logical,
# integer or character output has no V2 value and is an error naming the
# output and the element (row-major, from 0): never INT_MIN or "NA".
mg_check_na <- function(name, flat, what) {
  if (anyNA(flat))
    stop(sprintf("output '%s': element %d is NA, which %s cannot carry%s", name,
                 which(is.na(flat))[1] - 1, what,
                 if (what == "BYTES") "" else "; return a double (NA_real_) to send NA"))
}

# One BYTES element from a string or a raw vector, byte-exact.
mg_bytes_element <- function(name, x) {
  if (is.raw(x)) return(x)
  if (is.character(x) && length(x) == 1L) {
    if (is.na(x)) stop(sprintf("output '%s': a BYTES list element is NA, which BYTES cannot carry", name))
    return(charToRaw(enc2utf8(x)))
  }
  stop(sprintf("output '%s': a BYTES list element must be a string or a raw vector, got %s",
               name, typeof(x)))
}

mg_encode_tensor <- function(name, v) {
  if (is.factor(v)) v <- as.character(v)
  # A raw vector is one BYTES element; a list holds one element per entry.
  if (is.raw(v)) return(new(mg_d$Tensor, name = name, shape = 1, datatype = "BYTES",
                            strings = list(v)))
  shape <- if (is.null(dim(v))) length(v) else dim(v)
  flat <- if (is.null(dim(v))) as.vector(v) else as.vector(aperm(v))
  if (is.logical(flat)) {
    mg_check_na(name, flat, "BOOL")
    new(mg_d$Tensor, name = name, shape = shape, datatype = "BOOL", raw = as.raw(as.integer(flat)))
  } else if (is.integer(flat)) {
    mg_check_na(name, flat, "INT32")
    new(mg_d$Tensor, name = name, shape = shape, datatype = "INT32",
        raw = writeBin(flat, raw(), size = 4, endian = "little"))
  } else if (is.double(flat)) {
    new(mg_d$Tensor, name = name, shape = shape, datatype = "FP64",
        raw = writeBin(flat, raw(), size = 8, endian = "little"))
  } else if (is.character(flat)) {
    mg_check_na(name, flat, "BYTES")
    new(mg_d$Tensor, name = name, shape = shape, datatype = "BYTES",
        strings = lapply(enc2utf8(flat), charToRaw))
  } else if (is.list(flat)) {
    new(mg_d$Tensor, name = name, shape = shape, datatype = "BYTES",
        strings = lapply(flat, function(x) mg_bytes_element(name, x)))
  } else {
    stop(sprintf("output '%s' has R type %s, which has no V2 datatype", name, typeof(flat)))
  }
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
    new(mg_d$TensorSpec, name = nm, datatype = datatype, shape = -1, levels = levels)
  })
}

# Factor columns of the prototype reach predict_fn as factors with the
# prototype's levels (the daemon let only those values through).
mg_factor_levels <- function(proto) {
  if (is.null(proto)) return(list())
  Filter(Negate(is.null), lapply(proto, function(col) if (is.factor(col)) levels(col)))
}

mg_inputs <- function(infer, dataframe, factor_levels = list()) {
  decoded <- lapply(infer$inputs, mg_decode_tensor)
  values <- lapply(decoded, `[[`, "value")
  names(values) <- vapply(decoded, `[[`, "", "name")
  if (!dataframe) return(values)
  for (nm in names(values)) {
    v <- values[[nm]]
    if (!is.null(dim(v))) {
      if (length(dim(v)) == 2 && dim(v)[2] == 1) values[[nm]] <- as.vector(v)
      else invalid_input(sprintf("input '%s': data-frame mode needs 1-D inputs, got shape [%s]",
                                 nm, paste(dim(v), collapse = ",")))
    }
  }
  for (nm in intersect(names(factor_levels), names(values)))
    values[[nm]] <- factor(values[[nm]], levels = factor_levels[[nm]])
  lens <- unique(vapply(values, length, 0L))
  if (length(lens) > 1)
    invalid_input(sprintf("data-frame mode needs inputs of equal length, got %s",
                          paste(lens, collapse = ", ")))
  # A data.frame built directly: as.data.frame() costs ~140 us per call.
  structure(values, class = "data.frame",
            row.names = .set_row_names(if (length(lens)) lens else 0L))
}

mg_result <- function(out) {
  if (!is.list(out) || is.null(names(out)) || any(names(out) == ""))
    stop("predict_fn must return a named list or a data.frame of outputs")
  tensors <- mapply(mg_encode_tensor, names(out), out, SIMPLIFY = FALSE, USE.NAMES = FALSE)
  new(mg_d$Result, outputs = tensors)
}

mg_traceback <- function(calls) {
  lines <- vapply(calls, function(cl) paste(deparse(cl, nlines = 1L), collapse = " "), "")
  paste(rev(tail(lines, 20)), collapse = "\n")
}

mg_error_frame <- function(id, message, traceback = "", invalid = FALSE) {
  new(mg_d$Frame, id = id,
      error = new(mg_d$Error, message = message, traceback = traceback, invalid_input = invalid))
}

# The request's parameters: a named list of logical, numeric (int64 as
# double, like INT64 tensors) and character values.
mg_param_fields <- c("bool_param", "int64_param", "double_param", "string_param")
mg_params <- function(infer) {
  ps <- infer$parameters
  out <- lapply(ps, function(p) {
    for (f in mg_param_fields) if (has(p, f)) return(p[[f]])
    NULL
  })
  names(out) <- vapply(ps, function(p) p$name, "")
  out
}

# Whether predict_fn takes the parameters: its second argument is a plain
# one without a default (function(inputs, params)). `...` and arguments with
# defaults (function(inputs, ...) predict(fit, inputs, ...),
# function(inputs, type = "prob")) never receive them: a one-argument model
# of yesterday keeps working unchanged.
mg_takes_params <- function(fn) {
  f <- formals(fn)
  length(f) >= 2 && names(f)[2] != "..." && identical(f[[2]], quote(expr = ))
}

mg_handle_infer <- function(frame, id, env, dataframe, with_params = FALSE,
                            factor_levels = list()) {
  calls <- NULL
  tryCatch(
    withCallingHandlers({
      infer <- frame$infer
      inputs <- mg_inputs(infer, dataframe, factor_levels)
      out <- if (with_params) env$predict_fn(inputs, mg_params(infer))
             else env$predict_fn(inputs)
      new(mg_d$Frame, id = id, result = mg_result(out))
    }, error = function(e) calls <<- sys.calls()),
    invalid_input = function(e) mg_error_frame(id, conditionMessage(e), "", TRUE),
    error = function(e) mg_error_frame(id, conditionMessage(e), mg_traceback(calls)))
}

# Message descriptors, looked up once (P() costs ~7 us per call).
mg_d <- new.env()

# Only a data.frame named `prototype` declares a signature: a model.R that
# uses the name for anything else loads as it did before prototypes existed.
mg_has_prototype <- function(env) {
  exists("prototype", envir = env, inherits = FALSE) && is.data.frame(env$prototype)
}

mg_serve <- function(model_dir, proto_file, dataframe) {
  suppressPackageStartupMessages(library(RProtoBuf))
  readProtoFiles(files = proto_file)
  for (m in c("Frame", "Tensor", "Result", "Error", "Hello", "Pong", "TensorSpec"))
    assign(m, P(paste0("modelgate.worker.v1.", m)), envir = mg_d)
  inp <- file("/dev/fd/3", open = "rb", raw = TRUE)
  out <- file("/dev/fd/4", open = "wb", raw = TRUE)

  env <- new.env(parent = globalenv())
  env$model_dir <- model_dir
  env$invalid_input <- invalid_input
  loaded <- tryCatch({
    model_file <- file.path(model_dir, "model.R")
    if (!file.exists(model_file)) stop(sprintf("%s does not exist", model_file))
    sys.source(model_file, envir = env)
    if (!is.function(env$predict_fn)) stop(sprintf("%s defines no function predict_fn", model_file))
    # (evaluated in this frame: `specs` is mg_serve's)
    specs <- if (mg_has_prototype(env)) mg_prototype_specs(env$prototype) else list()
    TRUE
  }, error = function(e) {
    mg_write_frame(out, mg_error_frame(0, paste("model load failed:", conditionMessage(e))))
    FALSE
  })
  if (!loaded) return(1L)
  # Decided once: predict_fn(inputs) models never see parameters.
  with_params <- mg_takes_params(env$predict_fn)
  # A prototype declares the signature, and makes the inputs a data.frame.
  has_prototype <- mg_has_prototype(env)
  dataframe <- dataframe || has_prototype
  factor_levels <- if (has_prototype) mg_factor_levels(env$prototype) else list()

  hello <- new(mg_d$Hello, protocol_version = mg_protocol_version,
               runtime = "r", runtime_version = R.version.string,
               pid = Sys.getpid(), model_dir = model_dir, dataframe = dataframe)
  if (length(specs)) {
    hello$inputs <- specs
    hello$signature_source <- "the prototype data.frame in model.R"
  }
  mg_write_frame(out, new(mg_d$Frame, id = 0, hello = hello))

  repeat {
    frame <- tryCatch(mg_read_frame(inp), error = function(e) {
      message("modelgate worker: ", conditionMessage(e))
      quit(save = "no", status = 2)
    })
    if (is.null(frame) || has(frame, "shutdown")) return(0L)
    id <- frame$id
    reply <- if (has(frame, "infer")) {
      mg_handle_infer(frame, id, env, dataframe, with_params, factor_levels)
    } else if (has(frame, "ping")) {
      new(mg_d$Frame, id = id, pong = new(mg_d$Pong))
    } else {
      mg_error_frame(id, "unexpected frame kind")
    }
    mg_write_frame(out, reply)
  }
}
