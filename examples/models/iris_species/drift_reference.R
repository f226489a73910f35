# Writes 1/reference.json, the drift reference of the iris model (config.json
# "drift"), from R's datasets::iris: the same 150 rows the model was fitted on
# (sklearn's copy). The model's one input "features" is an [n, 4] matrix, so
# each of its columns is a monitored input. Run by `make models`.
source(file.path("..", "..", "..", "tools", "drift_reference.R"))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[[1]] else file.path("1", "reference.json")
train <- datasets::iris[1:4]
names(train) <- c("sepal_length", "sepal_width", "petal_length", "petal_width")
write_drift_reference(train, out, buckets = 10L, input = "features")
