"""What respondents are told about anonymity, from the partnership's own thresholds."""

from __future__ import annotations

from dataclasses import dataclass

# Open answers can give a writer away by style and detail, so they need a bigger group than
# scores: never fewer than this many responses, and never fewer than the partnership's k.
COMMENT_MIN_GROUP_SIZE = 8


def comment_threshold(k: int) -> int:
    """The smallest group whose open answers are shown: max(k, 8)."""
    if k < 1:
        raise ValueError(f"k must be a positive group size, got {k}")
    return max(k, COMMENT_MIN_GROUP_SIZE)


@dataclass(frozen=True)
class PrivacyNotice:
    partnership: str
    partner: str
    min_group_size: int
    comment_group_size: int
    has_open_questions: bool
    has_partner_ratings: bool


def privacy_notice(partnership_name: str, partner_name: str, k: int, *,
                   has_open_questions: bool, has_partner_ratings: bool) -> PrivacyNotice:
    return PrivacyNotice(partnership_name, partner_name, k, comment_threshold(k),
                         has_open_questions, has_partner_ratings)
