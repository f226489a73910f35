# Prints during predict (stdout with cat, stderr with message, and a last
# line without its newline), naming the k values it was given.
cat("logid r loading\n")
predict_fn <- function(inputs) {
  ks <- paste(inputs$k, collapse = " ")
  cat(sprintf("logid r begin %s\n", ks))
  Sys.sleep(0.05)
  message(sprintf("logid r stderr %s", ks))
  cat(sprintf("logid r unfinished %s", ks))
  list(y = inputs$k)
}
