"""Benchmark of the analysis package: full results of a partnership against a bare group-by.

Builds synthetic long answers (the package contract: one row per response and item), then
times

- the full analysis of all rounds: every round's results and the results over time, through
  :func:`analysis.results.partnership_results`, which builds each round's state (scores,
  suppression, bootstrap intervals) once and lets the round and the series share it;
- the bare pandas group-by of the same data (mean per round x partner x item), measured in the
  same run, as the floor any analysis of these answers pays; the full analysis is printed as a
  ratio to it (target: at most 25x);
- one round of 3,000 respondents (the single-round target);
- for both, the share spent in the resampling steps (bootstrap intervals, permutation tests,
  the omega bootstrap inside the reliability section).

Then, unless ``--no-check``, the slow reference path: :func:`partnership_over_time` plus
:func:`round_results` for every round on its own (each round's state built twice) with the
bootstrap drawing every group's resamples afresh (``analysis.describe.SHARE_DRAWS = False``)
and the omega bootstrap on its reference path (``analysis.reliability.FAST_OMEGA = False``:
every dimension draws afresh, sums taken respondent by respondent).
Its results must be identical, byte for byte as JSON, to the fast path's on this seed; the run
fails (exit 1) otherwise.

Peak memory is measured in a separate run of the full analysis with ``tracemalloc`` (which
slows numpy down, so it is never on while timing), and as the process's peak resident set
size. Figures move by up to 2x between hours on the shared 2-core host
(research/perf-limits.md), so read the ratio to the group-by, not the absolute seconds alone.

Run ``python bench/analysis.py`` (``--help`` for the options).
"""

# The imports of numpy and the package follow the setting of the BLAS thread count.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _blas_threads(argv: list[str]) -> str | None:
    """Apply ``--blas-threads N`` before numpy loads OpenBLAS (it reads the count once)."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--blas-threads=") else None
        if arg == "--blas-threads" and i + 1 < len(argv):
            value = argv[i + 1]
        if value is not None:
            os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = value
    return os.environ.get("OPENBLAS_NUM_THREADS")


BLAS_THREADS = _blas_threads(sys.argv[1:]) if __name__ == "__main__" else None

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import analysis.describe  # noqa: F401  (the package exports a function of the same name)
import analysis.reliability as reliability_module
import analysis.results._state as state_module
import analysis.results.round as round_module
from analysis.results import partnership_over_time, partnership_results, round_results

describe_module = sys.modules["analysis.describe"]

TARGET_FULL_S = 10.0
TARGET_RATIO = 25.0
TARGET_FULL_MIB = 1024.0
TARGET_SINGLE_S = 1.0
MISSING_SHARE = 0.02


def build(
    partners: int, rounds: int, per_partner: int, items: int, dimensions: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Answers, item map and partner list: values 1-5, 2% "don't know", one reversed item per
    dimension, partner and round effects so that the tests have something to find."""
    rng = np.random.default_rng(seed)
    per_dim = items // dimensions
    item_ids = [f"q{i + 1:02d}" for i in range(items)]
    item_map = pd.DataFrame(
        {
            "item_id": item_ids,
            "dimension": [f"dim{min(i // per_dim, dimensions - 1) + 1}" for i in range(items)],
            "reverse": [i % per_dim == per_dim - 1 for i in range(items)],
            "scale_min": 1,
            "scale_max": 5,
        }
    )
    n_resp = partners * rounds * per_partner
    partner_of = np.repeat(np.tile(np.arange(partners), rounds), per_partner)
    round_of = np.repeat(np.arange(rounds), partners * per_partner)
    level = 3.0 + 0.08 * partner_of + 0.1 * round_of + rng.normal(0, 0.6, n_resp)
    noise = rng.normal(0, 0.8, (n_resp, items))
    values = np.clip(np.rint(level[:, None] + noise), 1, 5)
    reverse = item_map["reverse"].to_numpy()
    values[:, reverse] = 6 - values[:, reverse]
    dont_know = rng.random((n_resp, items)) < MISSING_SHARE
    values[dont_know] = np.nan
    response_ids = pd.Series([f"{x:032x}" for x in rng.integers(0, 2**63, n_resp)], dtype=object)
    answers = pd.DataFrame(
        {
            "response_id": np.repeat(response_ids.to_numpy(), items),
            "round_id": np.repeat(round_of + 1, items),
            "partner_id": np.repeat(np.array([f"P{p + 1:02d}" for p in partner_of]), items),
            "item_id": np.tile(np.array(item_ids, dtype=object), n_resp),
            "value": values.ravel(),
            "dont_know": dont_know.ravel(),
        }
    )
    partner_frame = pd.DataFrame(
        {
            "partner_id": [f"P{p + 1:02d}" for p in range(partners)],
            "name": [f"Mitra {p + 1}" for p in range(partners)],
            "sector": [("ngo", "government", "private")[p % 3] for p in range(partners)],
        }
    )
    return answers, item_map, partner_frame


def full_analysis(answers: pd.DataFrame, items: pd.DataFrame, partners: pd.DataFrame, k: int):
    """Every round's results and the results over time, each round's state built once."""
    order = sorted(answers["round_id"].unique().tolist())
    out = partnership_results(answers, items, partners=partners, k=k, round_order=order)
    return out.over_time, [out.rounds[r] for r in order]


def slow_analysis(answers: pd.DataFrame, items: pd.DataFrame, partners: pd.DataFrame, k: int):
    """The reference path: each round twice, every bootstrap group drawing on its own."""
    order = sorted(answers["round_id"].unique().tolist())
    describe_module.SHARE_DRAWS = False
    reliability_module.FAST_OMEGA = False
    try:
        over_time = partnership_over_time(
            answers, items, partners=partners, k=k, round_order=order
        )
        by_round = dict(tuple(answers.groupby("round_id", sort=True)))
        rounds = [
            round_results(by_round[r], items, round_id=r, partners=partners, k=k) for r in order
        ]
    finally:
        describe_module.SHARE_DRAWS = True
        reliability_module.FAST_OMEGA = True
    return over_time, rounds


def as_json(result) -> str:
    over_time, rounds = result
    payload = {"over_time": over_time.to_dict(), "rounds": [r.to_dict() for r in rounds]}
    return json.dumps(payload, sort_keys=True, allow_nan=False)


def group_by(answers: pd.DataFrame) -> pd.Series:
    return answers.groupby(["round_id", "partner_id", "item_id"], observed=True)["value"].mean()


# The resampling steps called by analysis.results, timed separately to show where the time
# goes: the bootstrap intervals (describe), the permutation tests (perception_gaps) and the
# reliability section (alpha and McDonald's omega with its bootstrap interval).
RESAMPLING = ("describe", "perception_gaps", "reliability_by_dimension")
_spent: dict[str, float] = dict.fromkeys(RESAMPLING, 0.0)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _spent[name] += time.perf_counter() - start

    return wrapper


# Patch the names where the results package looks them up (its submodules).
_PATCHED = {
    "describe": state_module,
    "perception_gaps": round_module,
    "reliability_by_dimension": round_module,
}
for _name in RESAMPLING:
    _module = _PATCHED[_name]
    setattr(_module, _name, _timed(_name, getattr(_module, _name)))


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, dict[str, float]]:
    """Fastest of ``repeat`` runs, with the resampling time spent in that run."""
    best, split = math.inf, {}
    for _ in range(repeat):
        gc.collect()
        for name in RESAMPLING:
            _spent[name] = 0.0
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, split = elapsed, dict(_spent)
    return best, split


def peak_mib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _split_rows(split: dict[str, float], total: float) -> list[tuple[str, str, str, str]]:
    labels = {
        "describe": "  of which bootstrap intervals (describe)",
        "perception_gaps": "  of which permutation tests (perception_gaps)",
        "reliability_by_dimension": "  of which reliability with omega bootstrap",
    }
    rows = [
        (labels[name], f"{seconds:.3f} s", f"{seconds / total:.0%} of it", "")
        for name, seconds in split.items()
    ]
    rest = total - sum(split.values())
    rows.append(("  of which everything else", f"{rest:.3f} s", f"{rest / total:.0%} of it", ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--per-partner",
        type=int,
        default=1000,
        help="respondents per partner and round (default 1000: 1,000,000 answers; the issue's "
        "'2,000 respondents' is --per-partner 2000, i.e. 2,000,000 answers)",
    )
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--dimensions", type=int, default=4)
    parser.add_argument("--single-round", type=int, default=3000, help="respondents in one round")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs; the best is shown")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="OpenBLAS threads (sets OPENBLAS_NUM_THREADS before numpy loads; default: as the "
        "environment says). On the shared 2-core host, threads of concurrent processes "
        "oversubscribe the cores and small matrix products stall; 1 is what a server with "
        "several workers should run",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the slow reference path and the check that its figures are identical",
    )
    args = parser.parse_args(argv)

    answers, items, partners = build(
        args.partners, args.rounds, args.per_partner, args.items, args.dimensions, args.seed
    )
    n_answers = len(answers)
    single, _, _ = build(
        args.partners, 1, args.single_round // args.partners, args.items, args.dimensions, 2
    )

    # Warm-up (imports, first-call caches), untimed.
    round_results(single, items, round_id=1, partners=partners, k=args.k)

    t_group, _ = best_of(args.repeat, lambda: group_by(answers))
    t_full, full_split = best_of(
        args.repeat, lambda: full_analysis(answers, items, partners, args.k)
    )
    # The group-by again after the analysis, so a slow minute of the shared host does not
    # favour either side of the ratio: the floor is the fastest of both series.
    t_group = min(t_group, best_of(args.repeat, lambda: group_by(answers))[0])
    t_single, single_split = best_of(
        args.repeat,
        lambda: round_results(single, items, round_id=1, partners=partners, k=args.k),
    )
    mem_full = peak_mib(lambda: full_analysis(answers, items, partners, args.k))
    frame_mib = answers.memory_usage(deep=True).sum() / 2**20
    maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    identical: bool | None = None
    t_slow = math.nan
    slow_split: dict[str, float] = {}
    if not args.no_check:
        fast = as_json(full_analysis(answers, items, partners, args.k))
        start = time.perf_counter()
        for name in RESAMPLING:
            _spent[name] = 0.0
        slow = as_json(slow_analysis(answers, items, partners, args.k))
        t_slow, slow_split = time.perf_counter() - start, dict(_spent)
        identical = fast == slow

    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER"

    print(
        f"data: {args.partners} partners x {args.rounds} rounds x {args.per_partner} respondents "
        f"x {args.items} items ({args.dimensions} dimensions) = {n_answers:,} answers, "
        f"frame {frame_mib:,.0f} MiB"
    )
    if args.per_partner == 1000:
        print(
            "note: the issue's '2,000 respondents' per partner would be 2,000,000 answers; "
            "run with --per-partner 2000 for that"
        )
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"OpenBLAS threads {BLAS_THREADS or 'default'}"
    )
    print()
    rows = [
        ("bare group-by (round x partner x item mean)", f"{t_group:.3f} s", "", ""),
        (
            "full analysis, all rounds (each round once)",
            f"{t_full:.3f} s",
            f"{t_full / t_group:.1f}x group-by",
            f"<= {TARGET_RATIO:.0f}x: {verdict(t_full / t_group <= TARGET_RATIO)}",
        ),
        *_split_rows(full_split, t_full),
        (
            "  peak traced memory (tracemalloc)",
            f"{mem_full:,.0f} MiB",
            "",
            f"< {TARGET_FULL_MIB:,.0f} MiB: {verdict(mem_full < TARGET_FULL_MIB)}",
        ),
        ("  process peak RSS (getrusage)", f"{maxrss_mib:,.0f} MiB", "whole process", ""),
        (
            f"single round, {args.single_round:,} respondents",
            f"{t_single:.3f} s",
            f"{len(single):,} answers",
            f"< {TARGET_SINGLE_S:.0f} s: {verdict(t_single < TARGET_SINGLE_S)}",
        ),
        *_split_rows(single_split, t_single),
    ]
    if identical is not None:
        rows += [
            (
                "slow reference path (each round twice, no shared draws)",
                f"{t_slow:.3f} s",
                f"{t_slow / t_group:.1f}x group-by",
                f"{t_slow / t_full:.1f}x the fast path",
            ),
            *_split_rows(slow_split, t_slow),
            (
                "  figures identical to the fast path (JSON, seed 0)",
                "yes" if identical else "NO",
                "",
                "ok" if identical else "DIFFERENT",
            ),
        ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "value", "ratio / size", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 1 if identical is False else 0


if __name__ == "__main__":
    raise SystemExit(main())
