# config.json declares x as FP32, the prototype as numeric (FP64): the
# version fails to load naming x and both declarations.
prototype <- data.frame(x = numeric(0), n = integer(0))
predict_fn <- function(inputs) list(y = inputs$x)
