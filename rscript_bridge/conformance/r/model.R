# The conformance model (see ../README.md); python/model.py is its twin.
predict_fn <- function(inputs) {
  out <- list()
  for (name in names(inputs)) {
    v <- inputs[[name]]
    if (name == "x") out$y <- v * 2
    else if (name == "m") out$m_t <- t(v)
    else if (name == "s") out$s_upper <- toupper(v)
    else if (name == "b") out$not_b <- !v
    else if (name == "i") out$i_plus <- v + 1L
    else if (name == "i64") out$i64_sum <- sum(v)
    else if (name == "bad") invalid_input("flagged by model: bad")
    else if (name == "boom") stop("boom requested")
  }
  out
}
