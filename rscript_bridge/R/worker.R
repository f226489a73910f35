# Entry point of an R worker:
#   Rscript worker.R --model-dir DIR [--proto FILE] [--dataframe]
local({
  args <- commandArgs(trailingOnly = TRUE)
  value_of <- function(flag, default = NULL) {
    i <- match(flag, args)
    if (is.na(i) || i == length(args)) default else args[[i + 1]]
  }
  script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])
  here <- dirname(normalizePath(script))
  model_dir <- value_of("--model-dir")
  if (is.null(model_dir)) {
    message("usage: worker.R --model-dir DIR [--proto FILE] [--dataframe]")
    quit(save = "no", status = 64)
  }
  model_dir <- normalizePath(model_dir, mustWork = FALSE)
  proto <- value_of("--proto", file.path(here, "..", "proto", "worker.proto"))
  source(file.path(here, "modelgate_runtime.R"))
  if (dir.exists(model_dir)) setwd(model_dir)
  status <- mg_serve(model_dir, proto, "--dataframe" %in% args)
  quit(save = "no", status = status)
})
