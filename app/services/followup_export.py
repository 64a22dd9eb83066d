"""The action register as a download (CSV or XLSX), with the export module's cell hygiene.

The rows are those of the register page with the same filters; the impact column holds the
same words as the page (:mod:`app.results.impact`), so nothing below k appears here either.
"""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Partnership, User
from app.results.impact import action_impacts
from app.services.actions import RegisterFilters, register
from app.services.audit import record
from app.services.exports import (
    CSV_STYLES,
    MIMETYPES,
    STANDARD_CSV,
    Export,
    Table,
    to_csv,
    to_xlsx,
)
from app.services.followup import ACTION_STATUS_LABELS, questionnaire_of, target_label

__all__ = ["register_export", "register_table"]


def register_table(session: Session, partnership: Partnership, filters: RegisterFilters,
                   today: date, language: str) -> Table:
    """The register's rows as one table, in ``language``."""
    with force_locale(language):
        rows = register(session, partnership, filters, today)
        impacts = action_impacts(session, partnership, [r.action for r in rows], language)
        columns = (_("Action"), _("Round"), _("Workshop date"), _("What will be done"),
                   _("Dimension or question"), _("Owners"), _("Co-owners"), _("Due date"),
                   _("Status"), _("Progress (%)"), _("Overdue"), _("Carried over into"),
                   _("Why it is dropped"), _("Checklist done"), _("Change since"))
        table_rows = []
        questionnaires: dict[int, object] = {}
        for row in rows:
            action = row.action
            questionnaire = questionnaires.setdefault(row.round.questionnaire_version_id,
                                                      questionnaire_of(row.round))
            impact = impacts.get(action.id)
            done = sum(1 for item in action.checklist if item.done)
            table_rows.append([
                action.id, row.round.name, action.workshop.held_on.isoformat(),
                action.description,
                target_label(questionnaire, action.dimension_id, action.item_id,  # type: ignore[arg-type]
                             language),
                ", ".join(p.name for p in row.owners), ", ".join(p.name for p in row.co_owners),
                action.due_on.isoformat() if action.due_on else None,
                str(ACTION_STATUS_LABELS[action.status.value]), action.progress,
                _("yes") if row.overdue else _("no"),
                row.carried_into.name if row.carried_into is not None else None,
                action.drop_reason,
                f"{done}/{len(action.checklist)}" if action.checklist else None,
                " ".join(part for part in (impact.headline, impact.stats) if part)
                if impact is not None else None,
            ])
        return Table("actions", _("Action register"), columns, table_rows)


def register_export(session: Session, user: User, partnership: Partnership,
                    filters: RegisterFilters, today: date, language: str, fmt: str,
                    style: str | None = None) -> Export:
    """Build the download and record it in the audit log (the caller commits)."""
    table = register_table(session, partnership, filters, today, language)
    csv_style = CSV_STYLES.get(style or "", STANDARD_CSV)
    if fmt == "xlsx":
        body = to_xlsx([table])
    else:
        body = to_csv([table], sections=False, style=csv_style).encode("utf-8-sig")
    record(session, user.id, "export.actions", partnership, partnership_id=partnership.id,
           format=fmt, rows=len(table.rows))
    session.flush()
    return Export(f"actions-{partnership.id}-{today.isoformat()}.{fmt}", MIMETYPES[fmt], body,
                  len(table.rows))
