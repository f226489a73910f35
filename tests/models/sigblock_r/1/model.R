# Sleeps with interrupts suspended: stands for native code that never checks
# for interrupts, so the daemon must kill it after the interrupt grace.
predict_fn <- function(inputs) {
  suspendInterrupts(Sys.sleep(inputs$seconds[1]))
  list(slept = inputs$seconds)
}
