# Shared helpers of the metafor reference generators (tests/reference/generate_*_reference.R).
#
# Each generator sources it from its own folder (the local({...}) block near its top); needs jsonlite.
# Defines:
#   fmt_num(x)    one double as JSON text: the shortest of %.15g/%.16g/%.17g that reads back to the
#                 same double (exact round trip); NA as null; Inf, -Inf, NaN as the bare tokens
#                 Infinity, -Infinity, NaN (Python's json module reads them as floats).
#   to_json(x)    a value as indented JSON: scalars unboxed; vectors of length != 1 and values
#                 wrapped in I() as arrays; named lists as objects; factors as their labels.
#   strip_ansi(s) text without terminal colour codes.
#   capture(expr) list(value, warnings, messages, error): every warning and message metafor emits
#                 is kept (and muffled); an error gives value NULL and its message.

fmt_num <- function(x) {
  if (is.na(x) && !is.nan(x)) return("null")
  if (is.nan(x)) return("NaN")
  if (is.infinite(x)) return(if (x > 0) "Infinity" else "-Infinity")
  if (x == round(x) && abs(x) < 1e15) return(sprintf("%.0f", x))
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) return(s)
  }
  s
}

to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  as_array <- inherits(x, "AsIs")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, character(1), indent = indent + 2)
    if (!is.null(names(x))) {
      keys <- vapply(names(x), function(k) as.character(jsonlite::toJSON(k, auto_unbox = TRUE)), character(1))
      return(paste0("{\n", paste0(pad, keys, ": ", items, collapse = ",\n"), "\n", end, "}"))
    }
    return(paste0("[\n", paste0(pad, items, collapse = ",\n"), "\n", end, "]"))
  }
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) {
    vals <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.numeric(x)) {
    vals <- vapply(as.numeric(x), fmt_num, character(1))
  } else {
    vals <- vapply(as.character(x), function(s) {
      if (is.na(s)) "null" else as.character(jsonlite::toJSON(s, auto_unbox = TRUE))
    }, character(1), USE.NAMES = FALSE)
  }
  if (length(vals) == 1 && !as_array) return(vals)
  paste0("[", paste(vals, collapse = ", "), "]")
}

strip_ansi <- function(s) gsub("\033\\[[0-9;]*m", "", s)

capture <- function(expr) {
  warns <- character(0)
  msgs <- character(0)
  err <- NULL
  val <- tryCatch(
    withCallingHandlers(expr,
      warning = function(w) {
        warns <<- c(warns, strip_ansi(conditionMessage(w)))
        invokeRestart("muffleWarning")
      },
      message = function(m) {
        msgs <<- c(msgs, strip_ansi(trimws(conditionMessage(m))))
        invokeRestart("muffleMessage")
      }),
    error = function(e) {
      err <<- strip_ansi(conditionMessage(e))
      NULL
    })
  list(value = val, warnings = warns, messages = msgs, error = err)
}
