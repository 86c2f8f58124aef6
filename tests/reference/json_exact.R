# Exact-double JSON writer shared by generate_measures_reference.R and generate_methods_reference.R.
#
# jsonlite's write_json(digits = NA) keeps only 15 significant digits (1/3 is written as
# 0.333333333333333), so it does not round-trip doubles. Here every number is written with the
# shortest of %.15g, %.16g and %.17g that reads back to the same double. NA is written as null;
# Inf, -Inf and NaN as the bare tokens Infinity, -Infinity and NaN (Python's json reads them as
# floats). A vector wrapped in I() is always written as a JSON array, even with one element;
# a list with names is an object, without names an array.

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

# Evaluate expr, keeping its value, every warning and message (as strings) and the error, if any.
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
