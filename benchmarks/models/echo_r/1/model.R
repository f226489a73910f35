# Returns its input: the benchmark's trivial R model, so the cost of the
# gateway itself (front end, queue, pipe, runtime) is what gets measured.
predict_fn <- function(inputs) {  # inputs: named list, x a double vector
  list(y = inputs$x)
}
