# A model written before request parameters: `...` passed on to a predict
# method. It must never receive the parameters (they would land in its `...`).
predict_fn <- function(inputs, ...) {
  extra <- list(...)
  list(y = inputs$x * 2, extra_args = length(extra))
}
