# Returns its input x unchanged as y (FP64) and z (FP32 in config.json: the
# daemon converts), and c: NA, NaN, +Inf, -Inf and 1.5; python twin: missing_py.
predict_fn <- function(inputs) {
  list(y = inputs$x, z = inputs$x, c = c(NA_real_, NaN, Inf, -Inf, 1.5))
}
