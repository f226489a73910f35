# Sourced once per worker; `model_dir` is this directory.
model <- readRDS(file.path(model_dir, "model.rds"))

predict_fn <- function(inputs) {  # inputs: data.frame with columns wt, hp
  list(prob = unname(predict(model, newdata = inputs, type = "response")))
}
