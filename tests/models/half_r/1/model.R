# Returns its input twice as R doubles (FP64); config.json declares y FP16 and
# z BF16, so the daemon converts them (datatype tests).
predict_fn <- function(inputs) list(y = inputs$x, z = inputs$x)
