"""Reference values of case E09: the Wilcoxon signed-rank test by listing every sign pattern.

Independent of the project's code and of numpy/scipy: plain Python, exact fractions. Mid-ranks
of |d| are computed from the definition, every one of the 2^n sign patterns of the non-zero
differences is listed, and the one-sided p-values are the shares of patterns with
T+ >= observed and T+ <= observed; the two-sided p is twice the smaller (at most 1), the
convention of scipy.stats.wilcoxon. Run: python signed_rank_enumeration.py (about 10 s).
"""

from fractions import Fraction
from itertools import product

# 20 linked respondents, change on a 1-5 scale between two rounds (after - before): ties
# everywhere and two zeros, as Likert changes are. Zeros are dropped (Wilcoxon's rule).
BEFORE = [3, 2, 4, 3, 2, 3, 4, 2, 3, 3, 1, 2, 3, 4, 2, 3, 3, 2, 4, 1]
AFTER = [4, 3, 4, 4, 3, 2, 5, 4, 3, 4, 3, 2, 4, 5, 4, 5, 2, 3, 5, 2]


def mid_ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [Fraction(0)] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = Fraction(i + 1 + j + 1, 2)  # average of positions i+1 .. j+1
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        i = j + 1
    return ranks


def main():
    d = [a - b for a, b in zip(AFTER, BEFORE, strict=True)]
    nonzero = [x for x in d if x != 0]
    ranks = mid_ranks([abs(x) for x in nonzero])
    observed = sum(r for r, x in zip(ranks, nonzero, strict=True) if x > 0)
    t_minus = sum(r for r, x in zip(ranks, nonzero, strict=True) if x < 0)
    at_least = at_most = 0
    total = 0
    for signs in product((False, True), repeat=len(nonzero)):
        t = sum(r for r, s in zip(ranks, signs, strict=True) if s)
        at_least += t >= observed
        at_most += t <= observed
        total += 1
    greater = Fraction(at_least, total)
    less = Fraction(at_most, total)
    two = min(Fraction(1), 2 * min(greater, less))
    print(f"n ranked {len(nonzero)}, zeros {len(d) - len(nonzero)}, patterns {total}")
    print(f"T+ {float(observed)}, T- {float(t_minus)}")
    print(f"p greater {greater} = {float(greater):.12f}")
    print(f"p less {less} = {float(less):.12f}")
    print(f"p two-sided {two} = {float(two):.12f}")


if __name__ == "__main__":
    main()
