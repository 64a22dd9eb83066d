"""Language choice: Indonesian by default, English on request, for staff and respondents."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import babel

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def select_locale() -> str:
    """Pick the session's explicit choice, then the staff profile, then Indonesian."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["current_language"] = select_locale
    app.before_request(_translate_form_messages)


class CatalogueFormTranslations:
    """WTForms' own messages ("This field is required.") read from our catalogue.

    WTForms ships no Indonesian catalogue, so ``flask translate update`` copies its messages
    into ours, and Flask-WTF is pointed here instead of at WTForms' files. The lookup happens
    when a message is needed, so it follows the locale of that moment.
    """

    def ugettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_FORM_TRANSLATIONS = CatalogueFormTranslations()


def _translate_form_messages() -> None:
    # Flask-WTF looks for this request attribute before loading WTForms' own catalogues.
    request.wtforms_translations = _FORM_TRANSLATIONS


SECTOR_LABELS = {
    "government": _l("Government"),
    "private": _l("Private sector"),
    "ngo": _l("NGO"),
    "community": _l("Community group"),
    "academia": _l("Academia"),
    "donor": _l("Donor"),
    "other": _l("Other"),
}

ROLE_LABELS = {
    "coordinator": _l("Coordinator"),
    "facilitator": _l("Facilitator"),
    "observer": _l("Observer"),
}

ROUND_STATUS_LABELS = {
    "draft": _l("Draft"),
    "open": _l("Open"),
    "closed": _l("Closed"),
}
