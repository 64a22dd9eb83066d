"""A snapshot as one reader sees it: in one language, narrowed by filters, with chart words.

:class:`Filters` only *select* rows of the published snapshot (a partner, a dimension, a
sector): they never form a new group, so they cannot make a cell smaller than ``k``.
:class:`RoundView` and :class:`OverTimeView` hold what every panel and chart of a view is
built from; they read nothing from the request or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from analysis.results import TOTAL
from app.questionnaires import Questionnaire
from app.results.numbers import Numbers
from app.results.words import chart_words, text

__all__ = ["TOTAL", "ChartUrl", "Filters", "OverTimeView", "RoundView", "partner_rows",
           "select_partners"]

#: Makes the URL of a chart from its name and parameters (pages); None embeds it (report).
ChartUrl = Callable[..., str]


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the view to; each only selects published rows."""

    partner: int | None = None
    dimension: str | None = None
    sector: str | None = None

    @classmethod
    def parse(cls, args: Mapping[str, Any], partners: Sequence[Mapping[str, Any]],
              dimensions: Iterable[str]) -> Filters:
        """Read filters from query arguments; a value that names nothing here is ignored."""
        try:
            partner: int | None = int(args.get("partner") or "")
        except ValueError:
            partner = None
        if partner not in {p["partner_id"] for p in partners}:
            partner = None
        dimension = args.get("dimension") or None
        if dimension not in set(dimensions):
            dimension = None
        sector = args.get("sector") or None
        if sector not in {p["sector"] for p in partners}:
            sector = None
        return cls(partner, dimension, sector)

    def args(self) -> dict[str, Any]:
        values = {"partner": self.partner, "dimension": self.dimension, "sector": self.sector}
        return {key: value for key, value in values.items() if value not in (None, "")}

    @property
    def active(self) -> bool:
        return bool(self.args())


def select_partners(rows: Sequence[Mapping[str, Any]], filters: Filters) -> list[Any]:
    """The rows of the partners the filters keep (by sector and partner)."""
    return [row for row in rows
            if not (filters.sector and row["sector"] != filters.sector)
            and not (filters.partner and row["partner_id"] != filters.partner)]


def partner_rows(snap: Mapping[str, Any], participant_ids: Iterable[Any]) -> list[dict[str, Any]]:
    """A round's participating partners as the snapshot lists them (with n, or hidden)."""
    participants = set(participant_ids)
    return [row for row in snap["response_counts"]["partners"]
            if row["partner_id"] in participants or row["suppressed"] or row["n"]]


class _Reading:
    """What both views share: the reader's language, words, numbers and chart URLs."""

    language: str
    filters: Filters
    chart_url: ChartUrl | None

    @property
    def k(self) -> int:
        raise NotImplementedError

    @cached_property
    def words(self) -> dict[str, str]:
        """The words of this view's charts."""
        return chart_words(self.k, self.language)

    @cached_property
    def numbers(self) -> Numbers:
        return Numbers(self.language)

    def text(self, value: Any) -> str:
        """A ``{"id", "en"}`` text of the snapshot in the reader's language."""
        return text(value, self.language)

    def url(self, chart: str, **params: Any) -> str | None:
        """The URL of a chart of this view (with the filters), or None when embedded."""
        if self.chart_url is None:
            return None
        query = {**self.filters.args(), **{k: v for k, v in params.items() if v is not None}}
        return self.chart_url(chart, **query)


@dataclass
class RoundView(_Reading):
    """What every panel and chart of one round's results is built from."""

    round_id: int
    closed: bool  # open answers are shown for closed rounds only
    snap: dict[str, Any]
    questionnaire: Questionnaire
    language: str
    partner_rows: list[dict[str, Any]]  # participating partners, display order
    filters: Filters = field(default_factory=Filters)
    chart_url: ChartUrl | None = None

    @property
    def k(self) -> int:
        return int(self.snap["meta"]["k"])

    @property
    def shown(self) -> list[dict[str, Any]]:
        return select_partners(self.partner_rows, self.filters)

    @property
    def shown_ids(self) -> list[Any]:
        return [row["partner_id"] for row in self.shown]

    @property
    def hidden_ids(self) -> set[Any]:
        return {row["partner_id"] for row in self.partner_rows if row["suppressed"]}

    @property
    def names(self) -> dict[Any, str]:
        return {row["partner_id"]: row["name"] for row in self.partner_rows}

    def table(self, dimension: str) -> dict[str, Any] | None:
        return next((t for t in self.snap["scores"] if t["dimension"] == dimension), None)

    def dimension_ids(self) -> list[str]:
        return [t["dimension"] for t in self.snap["scores"] if t["dimension"] != TOTAL]



@dataclass
class OverTimeView(_Reading):
    """What every panel and chart of a partnership's results over time is built from."""

    data: dict[str, Any]
    questionnaire: Questionnaire  # of the latest closed round: scale ends and bands
    language: str
    partner_rows: list[dict[str, Any]]  # every partner of the partnership
    filters: Filters = field(default_factory=Filters)
    chart_url: ChartUrl | None = None

    @property
    def k(self) -> int:
        return int(self.data["meta"]["k"])

    @property
    def round_labels(self) -> dict[Any, str]:
        return {r["id"]: r["name"] for r in self.data["rounds"]}

    @property
    def shown_ids(self) -> list[Any]:
        return [row["partner_id"] for row in select_partners(self.partner_rows, self.filters)]

    def scale(self, dimension: str | None) -> tuple[float, float] | None:
        """The score range of a dimension, or the one all share (None: they differ)."""
        q = self.questionnaire
        try:
            if dimension is None:
                ranges = {q.score_range(d.id) for d in q.dimensions} | {q.total_range()}
                return ranges.pop() if len(ranges) == 1 else None
            return q.total_range() if dimension == TOTAL else q.score_range(dimension)
        except KeyError:
            return None
