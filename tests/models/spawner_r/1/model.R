# Starts processes that try to outlive their worker: `system()` runs a shell
# that puts `sleep` in the background and exits, so each sleep is orphaned at
# once (reparented to the daemon, a child subreaper). At load: one in a
# session of its own (setsid), one in the worker's process group; at each
# predict: one more in its own session. Each writes its pid to
# $SPAWN_PID_DIR/<worker pid>-<kind>-<n> (nothing without that variable).
spawn_count <- 0L
spawn <- function(kind, new_session) {
  where <- Sys.getenv("SPAWN_PID_DIR")
  spawn_count <<- spawn_count + 1L
  target <- if (nzchar(where)) {
    file.path(where, sprintf("%d-%s-%d", Sys.getpid(), kind, spawn_count))
  } else {
    "/dev/null"
  }
  body <- sprintf("sh -c 'echo $$ > \"$0\"; exec sleep 1000' %s", shQuote(target))
  system(paste(if (new_session) "setsid" else "", body, "</dev/null >/dev/null 2>&1 &"))
}
spawn("session", TRUE)
spawn("group", FALSE)

predict_fn <- function(inputs) {
  spawn("session", TRUE)
  list(y = inputs$x)
}
