# The same glm behind plumber, as users run it today (single R process).
# Started by benchmarks/compare.py with MODEL_RDS set.
fit <- readRDS(Sys.getenv("MODEL_RDS"))

#* Probability of a manual transmission.
#* @post /predict
#* @serializer unboxedJSON
function(wt, hp) {
  list(prob = unname(predict(fit, newdata = data.frame(wt = as.numeric(wt), hp = as.numeric(hp)),
                             type = "response")))
}
