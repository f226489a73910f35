# `on_lib_path`: 1 when config.json's r_libs entry ("rlib", beside this
# version directory) is on .libPaths().
rlib <- normalizePath(file.path(model_dir, "..", "rlib"))
predict_fn <- function(inputs) {
  list(y = inputs$x, on_lib_path = as.numeric(rlib %in% normalizePath(.libPaths())))
}
