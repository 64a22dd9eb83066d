"""A round's results in one object: every table, chart matrix and sentence, anonymity-checked.

:func:`round_results` turns a round's tidy answers into a :class:`RoundResults`, and
:func:`partnership_over_time` a partnership's rounds into an :class:`OverTimeResults`. They are
the single source for the results pages, the charts, the CSV/XLSX exports and the JSON API:
whatever a consumer shows comes out of ``to_dict()``, so the anonymity rules below are applied
once, here, and cannot drift between consumers. Every dimension score is computed once per
round and reused by all sections.

Anonymity rules
---------------
A round publishes, for the partners under the partnership total, three kinds of table: the
response counts; for every dimension and the health index the valid scores (their count,
mean, SD, median, share favourable, interval, band); and for every item the answer
distribution. ``k`` is the anonymity threshold (:mod:`analysis.privacy`).

1. **Hidden partners.** A partner is hidden when :func:`analysis.privacy.suppress` hides it
   in the response counts (fewer than ``k`` responses, or complementary suppression with the
   partnership total as parent) or in any score table. A hidden partner is hidden in *every*
   table of the round (``suppressed: true``, every number None): a partner hidden in one table
   but shown in another would let its shown counts and means fill in the hidden ones.
2. **Complementary check across tables.** Every table is then checked again with the hidden
   set of the whole round: the hidden partners that have values in the table must be at least
   two, hold at least ``k`` values together and more values than there are hidden partners
   (otherwise "each holds at least one" pins them all). A table that fails hides its smallest
   shown partner too (in every table), and the check repeats; a table with no shown partner
   left hides its partnership figures. So partnership total minus shown partners only ever
   gives the hidden partners *as one group* of at least ``k`` respondents.
3. **Partnership means.** A pooled (respondent-weighted) partnership figure minus the shown
   partners is a statistic of that hidden group, which k-anonymity allows. The mean of partner
   means is not: it would reveal the *sum* of the hidden partners' means, and together with
   the pooled mean and their counts (a coordinator sees code use) it pins each hidden mean
   when two partners are hidden. So when partners are hidden, the partner-weighted mean lets
   each hidden partner count with the pooled mean of all hidden respondents
   (``hidden_pooled: true``): every partner still weighs ``1/P``, and the figure adds
   nothing to what the pooled figures show.
4. **One reason.** Every hidden partner has the reason ``"anonymity"``. Saying which ones are
   below ``k`` and which complementary would bound their counts: with ``k = 5``, a below-k
   partner and a complementary one that hide 6 together must hold 1 and 5.
5. **Distributions** need :func:`analysis.privacy.comment_threshold` answers (8 by default,
   counting "don't know"). An item's partner distribution is shown when the partner is not
   hidden and reaches the threshold; the hidden distributions of an item must come from at
   least two partners holding the threshold together (same check as rule 2), else the
   smallest shown distribution is hidden too, else the partnership distribution. Hiding a
   distribution does not hide the partner's scores.
6. **Tests and indices** (partner differences, Dunn pairs, gaps, agreement) use shown
   partners only; item gaps use only partners whose distribution of that item is shown, so
   their item means add nothing. Reliability pools all respondents (a property of the
   questionnaire; no partner's item covariances are shown). Agreement and reliability use the
   respondents with a valid score on the dimension, the same people the scores count.
7. **Ratings** of one partner by another: a cell (rater partner, ratee, item) is shown when
   it holds at least ``k`` ratings and the rater partner is not hidden. Self-ratings are
   dropped. No totals over raters are published, so the cells need no complementary check.
8. **Over time.** A partner's figures for a round follow that round's rules (hidden there:
   hidden in the series, left out of changes and trends). A change needs ``k`` values in both
   rounds (``min_n = k``, i.e. :func:`analysis.privacy.change_allowed`). When questionnaire
   versions differ, comparisons use the items the rounds share, which can change who has a
   valid score; such a filtered group is shown only when
   :func:`analysis.privacy.safe_to_show_difference` allows it against the round's own count.

Known limit: within one *shown* partner, the tables count slightly different people (all
responses, valid scores per dimension, answers per item); differences between those counts are
not suppressed.
"""

from analysis.results._model import REASON_ANONYMITY, TOTAL, OverTimeResults, RoundResults
from analysis.results.over_time import LARGEST_CHANGES, partnership_over_time
from analysis.results.partnership import PartnershipResults, partnership_results
from analysis.results.ratings import ASYMMETRY_MIN_POINTS
from analysis.results.round import round_results

__all__ = [
    "ASYMMETRY_MIN_POINTS",
    "LARGEST_CHANGES",
    "REASON_ANONYMITY",
    "TOTAL",
    "OverTimeResults",
    "PartnershipResults",
    "RoundResults",
    "partnership_over_time",
    "partnership_results",
    "round_results",
]
