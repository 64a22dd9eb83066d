# Reference values for cases E01-E08 of ../cases.json (exact small-sample tests and
# McDonald's omega). Run with:  Rscript exact_and_omega.R
# Produced with R 4.2.2, coin 1.4-2, psych 2.2.9 (Debian bookworm packages r-base-core,
# r-cran-coin, r-cran-psych). The enumerations below are written from the definitions and
# share no code with the project (Python); coin and psych are independent implementations.
suppressPackageStartupMessages({library(coin); library(psych)})
options(digits = 15)

# ---------------------------------------------------------------- full enumeration helpers
# Every assignment of positions 1..N to groups of the given sizes, one row per assignment.
assignments <- function(sizes) {
  n <- sum(sizes)
  rec <- function(free, g) {
    if (g == length(sizes)) {
      lab <- integer(n); lab[free] <- g; return(matrix(lab, nrow = 1))
    }
    cmb <- combn(length(free), sizes[g])
    do.call(rbind, lapply(seq_len(ncol(cmb)), function(j) {
      chosen <- free[cmb[, j]]
      sub <- rec(setdiff(free, chosen), g + 1)
      sub[, chosen] <- g
      sub
    }))
  }
  rec(seq_len(n), 1)
}

# Kruskal-Wallis H with the usual tie correction (Hollander & Wolfe 1999, eq. 6.3 and 6.5).
kw_h <- function(values, labels) {
  n <- length(values); r <- rank(values)
  s <- sum(tapply(r, labels, sum)^2 / tapply(r, labels, length))
  t <- table(values)
  (12 / (n * (n + 1)) * s - 3 * (n + 1)) / (1 - sum(t^3 - t) / (n^3 - n))
}

exact_kw <- function(groups) {
  values <- unlist(groups); sizes <- lengths(groups)
  labels <- rep(seq_along(groups), sizes)
  h <- kw_h(values, labels)
  a <- assignments(sizes)
  null <- apply(a, 1, function(lab) kw_h(values, lab))
  c(H = h, p_exact = mean(null >= h - 1e-9), arrangements = nrow(a))
}

exact_gap <- function(groups) {
  values <- unlist(groups); sizes <- lengths(groups)
  gap <- function(lab) { m <- tapply(values, lab, mean); max(m) - min(m) }
  obs <- gap(rep(seq_along(groups), sizes))
  a <- assignments(sizes)
  null <- apply(a, 1, gap)
  c(gap = obs, p_exact = mean(null >= obs - 1e-9), null_mean = mean(null),
    arrangements = nrow(a))
}

cat("E01 Mann-Whitney, tied, exact conditional (coin)\n")
x <- c(4, 4, 5, 3, 5, 4); y <- c(2, 3, 3, 4, 2)
d <- data.frame(v = c(x, y), g = factor(rep(c("x", "y"), c(length(x), length(y)))))
print(pvalue(wilcox_test(v ~ g, data = d, distribution = "exact", alternative = "greater")))
print(pvalue(wilcox_test(v ~ g, data = d, distribution = "exact", alternative = "less")))

cat("E02 Mann-Whitney, untied, exact (wilcox.test) and tied 3 vs 4 (coin)\n")
print(wilcox.test(c(3.6, 4.2, 4.0), c(2.5, 3.1, 3.7, 2.0), exact = TRUE)$p.value)
x <- c(3.5, 4, 4); y <- c(2.5, 3, 3.5, 2)
d <- data.frame(v = c(x, y), g = factor(rep(c("x", "y"), c(length(x), length(y)))))
print(pvalue(wilcox_test(v ~ g, data = d, distribution = "exact", alternative = "greater")))
print(pvalue(wilcox_test(v ~ g, data = d, distribution = "exact", alternative = "less")))

cat("E03 Kruskal-Wallis exact, tied, 3 groups (enumeration)\n")
print(exact_kw(list(a = c(4, 5, 4), b = c(2, 3, 3), c = c(3, 4))))
cat("E04 Kruskal-Wallis exact, tied, sizes 4, 3, 3 (enumeration)\n")
print(exact_kw(list(a = c(1, 2, 2, 3), b = c(3, 4, 4), c = c(4, 5, 5))))
cat("E05 Kruskal-Wallis exact, Hollander & Wolfe mucociliary data (enumeration)\n")
print(exact_kw(list(normal = c(2.9, 3.0, 2.5, 2.6, 3.2),
                    oad = c(3.8, 2.7, 4.0, 2.4),
                    asbestosis = c(2.8, 3.4, 3.7, 2.2, 2.0))))

cat("E06 Wilcoxon signed rank, tied differences, exact conditional (coin)\n")
dd <- c(1, 1, -0.5, 2, 1, 0.5, 1.5, -1, 1)
zero <- rep(0, length(dd))  # coin tests the differences x - y of "x ~ y"
print(pvalue(wilcoxsign_test(dd ~ zero, distribution = "exact", alternative = "greater")))
print(pvalue(wilcoxsign_test(dd ~ zero, distribution = "exact", alternative = "less")))

cat("E07 perception gap exact (enumeration)\n")
print(exact_gap(list(a = c(4, 5, 4), b = c(2, 3, 3), c = c(3, 4))))
print(exact_gap(list(a = c(4, 4, 5), b = c(2, 3, 2), c = c(3, 3, 4), d = c(5, 4, 4))))

cat("E08 one-factor minres loadings and omega total\n")
omega_t <- function(l) sum(l)^2 / (sum(l)^2 + sum(1 - l^2))
f <- fa(attitude, nfactors = 1, fm = "minres")
l <- as.numeric(f$loadings); print(l); print(omega_t(l))
print(omega(attitude, nfactors = 1, flip = FALSE, plot = FALSE)$omega.tot)
