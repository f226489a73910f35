# Waits in a child process (system()), during which R ignores SIGINT: stands
# for native code that never checks for interrupts, so the daemon must kill
# the worker after the interrupt grace. (suspendInterrupts(Sys.sleep()) is
# not enough: the host's interrupt still ends Sys.sleep's wait.)
predict_fn <- function(inputs) {
  system(paste("sleep", inputs$seconds[1]))
  list(slept = inputs$seconds)
}
