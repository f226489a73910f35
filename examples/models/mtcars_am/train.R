# Fits the example model: probability of a manual transmission from weight
# and horsepower. Writes 1/model.rds. Run by `make models`.
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[[1]] else "1/model.rds"
fit <- glm(am ~ wt + hp, family = binomial, data = mtcars)
saveRDS(fit, out)
