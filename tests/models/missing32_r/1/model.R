# Returns its FP32 input x as y (R's double: FP64) and z (FP32 again), and
# is.na(x) & !is.nan(x) as na: which elements R saw as NA (not NaN).
predict_fn <- function(inputs) {
  x <- inputs$x
  list(y = x, z = x, na = is.na(x) & !is.nan(x))
}
