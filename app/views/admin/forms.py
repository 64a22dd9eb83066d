"""Forms of the administration pages (Flask-WTF: each carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.passwords import MAX_LENGTH
from app.forms import Form
from app.formutil import choices
from app.i18n import LANGUAGE_NAMES, ROLE_LABELS, SECTOR_LABELS
from app.services.partnerships import min_group_size_floor
from app.services.rounds import MAX_REASON_LENGTH, MIN_PARTNERS

LANGUAGE_CHOICES = choices(LANGUAGE_NAMES.items())
MAX_GROUP_SIZE = 100


class ConfirmForm(Form):
    """An empty form: a button that POSTs with a CSRF token."""


class PartnershipForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    default_language = SelectField(_l("Default language"), choices=LANGUAGE_CHOICES)
    min_group_size = IntegerField(
        _l("Anonymity threshold (k)"),
        default=5,
        validators=[InputRequired(), NumberRange(max=MAX_GROUP_SIZE)],
    )
    coordinator_email = EmailField(_l("Coordinator's email address"),
                                   validators=[Optional(), Length(max=254)])

    def validate_min_group_size(self, field: IntegerField) -> None:
        """Check the floor at request time: the configured floor may be above 3."""
        floor = min_group_size_floor()
        if field.data is not None and field.data < floor:
            raise ValidationError(
                _l("The anonymity threshold must be at least %(floor)d.", floor=floor))


class PartnerForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    sector = SelectField(_l("Sector"), choices=choices(SECTOR_LABELS.items()))


def _optional_int(value: object) -> int | None:
    """Coerce a select's value to an int, with the empty choice meaning None."""
    if value in (None, "", "None"):
        return None
    return int(value)  # type: ignore[arg-type]


class MemberRoleForm(Form):
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    partner_id = SelectField(_l("Partner (observers only)"), coerce=_optional_int,
                             validate_choice=True)


class MemberForm(MemberRoleForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])


def set_partner_choices(form: MemberRoleForm, partners: list) -> None:
    form.partner_id.choices = choices(
        [("", _l("No particular partner")), *((p.id, p.name) for p in partners)])


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes, so it works without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoundScheduleForm(Form):
    """What may change in a round at any time: its name and dates."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Opening date"), validators=[InputRequired()])
    closes_on = DateField(_l("Closing date"), validators=[InputRequired()])

    def validate_closes_on(self, field: DateField) -> None:
        if self.opens_on.data and field.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The closing date cannot be before the opening date."))


class RoundForm(RoundScheduleForm):
    """A draft round: questionnaire and partners can still be chosen."""

    questionnaire_version_id = SelectField(_l("Questionnaire version"), coerce=int)
    partner_ids = MultiCheckboxField(_l("Participating partners"), coerce=int)

    def validate_partner_ids(self, field: MultiCheckboxField) -> None:
        if len(field.data or []) < MIN_PARTNERS:
            raise ValidationError(_l("Choose at least two participating partners."))


class StatusForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(),
                                                     Length(max=MAX_REASON_LENGTH)])


class QuestionnaireUploadForm(Form):
    file = FileField(_l("Questionnaire file (.yaml or .yml)"),
                     validators=[FileRequired(_l("Choose a file to upload."))])


class UserForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language of the pages"), choices=LANGUAGE_CHOICES)
    is_admin = BooleanField(_l("Site administrator"))
    password = PasswordField(_l("Password (leave empty to generate one)"),
                             validators=[Optional(), Length(max=MAX_LENGTH)])
