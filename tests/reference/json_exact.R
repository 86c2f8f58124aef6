# The JSON writer (and warning capture) shared by every generate_*_reference.R script here.
#
# Each generator sources this file from its own folder, near its top:
#   script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
#   source(file.path(script_dir, "json_exact.R"))
# It needs jsonlite (for escaping strings only).
#
# Why not jsonlite::write_json(digits = NA): it keeps only 15 significant digits (1/3 is written
# as 0.333333333333333), so doubles do not round-trip. Here every number is written with the
# shortest of %.15g, %.16g and %.17g that reads back to the same double; whole numbers below 1e15
# without a decimal point. NA is written as null; Inf, -Inf and NaN as the bare tokens Infinity,
# -Infinity and NaN (Python's json module reads them as floats; strict JSON parsers do not).
#
# Defines:
#   fmt_num(x)        one double as JSON text, as above.
#   to_json(x)        a value as indented JSON text. A vector of length 1 is a scalar, any other
#                     length an array; a vector wrapped in I() is always an array (so a field that
#                     is a list of things stays an array when it holds one thing). A list with
#                     names is an object, without names an array. Factors are written as their
#                     labels; a data frame is an object of its columns. A one-row or one-column
#                     matrix is written as a vector; any other matrix is refused (it would lose
#                     its shape): convert it to a list of rows first.
#   strip_ansi(s)     text without terminal colour codes.
#   capture(expr)     list(value, warnings, messages, error): every warning and message emitted
#                     while evaluating expr is kept as a string (and muffled); an error gives
#                     value NULL and its message. warnings and messages are wrapped in I(), so
#                     they are always JSON arrays: [] for none, ["..."] for one.
#   num(x), vec(x)    x as an unnamed double vector (NULL stays NULL); vec() wraps it in I().
#   versions()        metafor, metadat and R versions, for the top of each file.
#   write_exact_json(x, path)  to_json(x) written to path.

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
  if (is.matrix(x) && nrow(x) > 1 && ncol(x) > 1) stop("to_json: a matrix would lose its shape; convert it first")
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
  list(value = val, warnings = I(warns), messages = I(msgs), error = err)
}

num <- function(x) if (is.null(x)) NULL else unname(as.numeric(x))
vec <- function(x) I(num(x))

versions <- function() {
  list(metafor_version = as.character(packageVersion("metafor")),
       metadat_version = as.character(packageVersion("metadat")),
       r_version = R.version$version.string)
}

write_exact_json <- function(x, path) {
  writeLines(to_json(x), path, useBytes = TRUE)
  invisible(path)
}
