# An analytics function rather than a fitted model: summary statistics of x.
predict_fn <- function(inputs) {
  x <- inputs$x
  if (length(x) < 2) invalid_input("x needs at least 2 values")
  list(n = length(x), mean = mean(x), sd = sd(x), min = min(x),
       median = median(x), max = max(x))
}
