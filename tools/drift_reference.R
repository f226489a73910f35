# write_drift_reference(): writes a modelgate drift reference (README, "Input
# drift") from training data, for config.json's "drift": {"reference": ...}.
#
#   source("tools/drift_reference.R")
#   write_drift_reference(train[c("wt", "hp")], "models/m/1/reference.json")
#   # a Python model taking one [n, 4] matrix input "features":
#   write_drift_reference(iris[1:4], "reference.json", input = "features")
#
# Numeric (and logical) columns get `buckets` quantile buckets: edges are the
# distinct type-7 quantiles at 1/buckets, 2/buckets, ... (R's default, and
# numpy's) to 15 significant digits, proportions are the share of the data in each left-closed bucket
# (findInterval's rule, the daemon's too). Factor and character columns get
# their categories' shares; beyond the `max_categories` most frequent, the
# rest is lumped into "other". NA values are left out, as the daemon skips
# NaN/NA. With `input`, every column is a column of that 2-D input, in order.
write_drift_reference <- function(data, path, buckets = 10L, max_categories = 50L, input = NULL) {
  stopifnot(is.data.frame(data), ncol(data) >= 1L, buckets >= 2L, buckets <= 100L,
            max_categories >= 1L, max_categories <= 100L)
  entry_for <- function(x, name, j) {
    x <- x[!is.na(x)]
    if (length(x) == 0L) stop("column '", name, "' has no values that are not NA")
    if (is.numeric(x) || is.logical(x)) {
      x <- as.numeric(x)
      # Rounded to the 15 digits the file holds before counting, so the
      # proportions are those of the edges written.
      edges <- unique(as.numeric(sprintf("%.15g", stats::quantile(
        x, probs = seq_len(buckets - 1L) / buckets, names = FALSE, type = 7))))
      counts <- tabulate(findInterval(x, edges) + 1L, nbins = length(edges) + 1L)
      e <- list(edges = I(edges), proportions = I(counts / length(x)))
    } else if (is.factor(x) || is.character(x)) {
      if (!is.null(input)) stop("column '", name, "': a matrix input holds numbers only")
      freq <- sort(table(as.character(x)), decreasing = TRUE)
      kept <- utils::head(freq, max_categories)
      if ("_other" %in% names(kept)) stop("column '", name, "': category '_other' is reserved")
      shares <- as.list(as.numeric(kept) / length(x))
      names(shares) <- names(kept)
      e <- list(categories = shares, other = 1 - sum(as.numeric(kept)) / length(x))
    } else {
      stop("column '", name, "': class ", class(x)[1], " is neither numeric nor categorical")
    }
    if (!is.null(input)) e <- c(list(input = input, column = j - 1L), e)
    e
  }
  entries <- Map(entry_for, data, names(data), seq_along(data))
  names(entries) <- names(data)
  ref <- list(format = 1L, rows = nrow(data), inputs = entries)
  writeLines(jsonlite::toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
  invisible(ref)
}
