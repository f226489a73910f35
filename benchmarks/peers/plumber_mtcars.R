# The same glm behind plumber, as users run it today (single R process), and
# a trivial endpoint that returns its input (plumber's own cost).
# Started by benchmarks/compare.py with MODEL_RDS set; measured with
# `Connection: close`, plumber's best configuration (with keep-alive it
# stalls ~40 ms per request on delayed ACK).
fit <- readRDS(Sys.getenv("MODEL_RDS"))

#* Probability of a manual transmission.
#* @post /predict
#* @serializer unboxedJSON
function(wt, hp) {
  list(prob = unname(predict(fit, newdata = data.frame(wt = as.numeric(wt), hp = as.numeric(hp)),
                             type = "response")))
}

#* Returns x.
#* @post /echo
#* @serializer json
function(x) {
  list(y = as.numeric(x))
}
