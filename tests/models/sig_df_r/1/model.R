# Signature declared in code (tests/integration/py/test_signatures.py): no
# "inputs" in config.json; the prototype's column classes give the inputs'
# datatypes and the factor's levels the only values `species` may take.
prototype <- data.frame(
  x = numeric(0),
  n = integer(0),
  flag = logical(0),
  label = character(0),
  species = factor(character(0), levels = c("setosa", "versicolor", "virginica"))
)

# What reached the model: species as a factor with the prototype's levels.
predict_fn <- function(inputs) {
  list(y = inputs$x * 2,
       n_plus = inputs$n + 1L,
       flag_not = !inputs$flag,
       label_upper = toupper(inputs$label),
       species_code = as.integer(inputs$species),
       species_class = class(inputs$species),
       species_levels = levels(inputs$species),
       is_df = is.data.frame(inputs))
}
