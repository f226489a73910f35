cat("noisy model loading: this goes to stdout, not the frame pipe\n")
calls <- 0
predict_fn <- function(inputs) {
  calls <<- calls + 1
  print(list(call = calls, inputs = inputs))
  cat("\x10\x01\x01\x01 looks like a frame header on stdout\n")
  message("stderr line ", calls)
  list(y = inputs$x * 2)
}
