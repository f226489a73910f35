# Prints during predict (stdout with cat, stderr with message, 56 KB of long
# lines, and a last line without its newline), naming the k values it was given.
cat("logid r loading\n")
predict_fn <- function(inputs) {
  ks <- paste(inputs$k, collapse = " ")
  cat(sprintf("logid r begin %s\n", ks))
  Sys.sleep(0.05)
  message(sprintf("logid r stderr %s", ks))
  # 56 KB: more than one read of the pipe, most of a pipe's capacity.
  for (i in 1:7) cat(sprintf("logid r long%d %s | %s\n", i, ks, strrep("x", 8000)))
  cat(sprintf("logid r unfinished %s", ks))
  list(y = inputs$k)
}
