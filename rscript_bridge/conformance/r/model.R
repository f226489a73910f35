# The conformance model (see ../README.md); python/model.py is its twin.
# Two arguments: the request's parameters arrive as a named list.
mg_kind <- function(e) if (is.raw(e)) "bytes" else "text"
mg_param <- function(name, v) {
  if (is.logical(v)) sprintf("%s=%s:bool", name, tolower(v))
  else if (is.numeric(v)) sprintf("%s=%s:number", name, format(v, digits = 15))
  else sprintf("%s=%s:string", name, v)
}
predict_fn <- function(inputs, params) {
  out <- list()
  for (name in names(inputs)) {
    v <- inputs[[name]]
    if (name == "x") out$y <- v * 2
    else if (name == "m") out$m_t <- t(v)
    else if (name == "s") out$s_upper <- toupper(v)
    else if (name == "b") out$not_b <- !v
    else if (name == "i") out$i_plus <- v + 1L
    else if (name == "i64") out$i64_sum <- sum(v)
    else if (name == "na_f") out$f_na <- c(NA_real_, NaN, Inf, -Inf)
    else if (name == "na_s") out$s_na <- c("a", NA_character_)
    else if (name == "na_i") out$i_na <- c(1L, 2L, NA_integer_)
    else if (name == "na_b") out$b_na <- NA
    else if (name == "obj") out$o <- list(k = 1)
    else if (name == "raw") {
      out$raw_echo <- v
      out$raw_kinds <- vapply(v, mg_kind, "", USE.NAMES = FALSE)
    }
    else if (name == "p") {
      keys <- sort(names(params))
      out$params <- if (length(keys)) unname(mapply(mg_param, keys, params[keys])) else character(0)
    }
    else if (name == "bad") invalid_input("flagged by model: bad")
    else if (name == "boom") stop("boom requested")
  }
  out
}
