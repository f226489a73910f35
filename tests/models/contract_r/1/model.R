# Breaks the output contract of config.json in the way `case` picks (see
# tests/models/README.md); python twin: contract_py.
predict_fn <- function(inputs) {
  case <- inputs$case[1]
  y <- 1
  s <- "ok"
  switch(as.character(case),
    "0" = list(y = y, s = s, extra = 7),      # as declared, plus an undeclared output
    "1" = list(y = c(1, 2, 3), s = s),        # y declared [1]
    "2" = list(s = s, other = y),             # y missing
    "3" = list(y = y, s = 1.5),               # s declared BYTES
    "4" = list(y = y, s = c("a", NA)),        # NA_character_ in BYTES
    "5" = list(y = NA_integer_, s = s),       # NA in an integer
    list(y = y, s = s))
}
