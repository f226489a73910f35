message("slow_r loaded and waiting for work")
predict_fn <- function(inputs) {
  Sys.sleep(inputs$seconds[1])
  list(slept = inputs$seconds)
}
