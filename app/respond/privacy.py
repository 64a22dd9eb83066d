"""What respondents are told about anonymity, from the partnership's own thresholds.

The thresholds themselves are :mod:`analysis.privacy`'s (one rule for the questionnaire's
promise, the results pages, the report and the exports): ``comment_threshold`` is re-exported
here for the callers that import it from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.privacy import COMMENT_MIN, comment_threshold

__all__ = ["COMMENT_MIN_GROUP_SIZE", "PrivacyNotice", "comment_threshold", "privacy_notice"]

# Open answers can give a writer away by style and detail, so they need a bigger group than
# scores: never fewer than this many responses, and never fewer than the partnership's k.
COMMENT_MIN_GROUP_SIZE = COMMENT_MIN


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
    """Return what the questionnaire's intro promises about the partnership's thresholds."""
    return PrivacyNotice(partnership_name, partner_name, k, comment_threshold(k),
                         has_open_questions, has_partner_ratings)
