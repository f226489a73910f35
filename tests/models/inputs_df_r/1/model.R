# Request parameters, optional inputs and BYTES as the model sees them
# (tests/integration/py/test_model_inputs.py); the same code serves tensor
# and data-frame mode. y = x * (w, default 2) * params$scale (default 1);
# params lists every parameter as "name=value:type"; s_echo returns s as
# received and s_kinds says "text" (string) or "bytes" (raw) per element.
describe <- function(name, v) {
  if (is.logical(v)) sprintf("%s=%s:bool", name, tolower(v))
  else if (is.numeric(v)) sprintf("%s=%s:number", name, format(v, digits = 15))
  else sprintf("%s=%s:string", name, v)
}

predict_fn <- function(inputs, params) {
  x <- as.numeric(inputs[["x"]])
  w <- if (is.null(inputs[["w"]])) 2 else as.numeric(inputs[["w"]])
  scale <- if (is.null(params[["scale"]])) 1 else params[["scale"]]
  keys <- sort(names(params))
  out <- list(y = x * w * scale, has_w = !is.null(inputs[["w"]]),
              params = if (length(keys)) unname(mapply(describe, keys, params[keys]))
                       else character(0))
  s <- inputs[["s"]]
  if (!is.null(s)) {
    out$s_echo <- s
    out$s_kinds <- vapply(s, function(e) if (is.raw(e)) "bytes" else "text", "", USE.NAMES = FALSE)
  }
  out
}
