"""Outgoing mail: plain-text messages through an SMTP server (``smtplib``), set by ``MAIL_*``.

Without ``MAIL_SERVER`` nothing is sent and :func:`mail_settings` returns None: callers then
show what they would have mailed (an invitation link) to the person in front of the screen.
``app.config.check_mail`` refuses half-set settings at start-up, so a server here always has
a sender. ``MAIL_USE_TLS`` upgrades the connection with STARTTLS and checks the server's
certificate; the password is sent only after that.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any


class MailError(Exception):
    """The message could not be handed to the mail server; ``str(error)`` says why."""


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float


def mail_settings(config: Mapping[str, Any]) -> MailSettings | None:
    """The configured SMTP server, or None when mail is not set up."""
    server = (config.get("MAIL_SERVER") or "").strip()
    if not server:
        return None
    return MailSettings(
        server=server, port=int(config.get("MAIL_PORT") or 587),
        use_tls=bool(config.get("MAIL_USE_TLS")),
        username=config.get("MAIL_USERNAME") or None,
        password=config.get("MAIL_PASSWORD") or None,
        sender=str(config["MAIL_FROM"]).strip(),
        timeout=float(config.get("MAIL_TIMEOUT") or 10),
    )


def build_message(settings: MailSettings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    # An automatic message: out-of-office replies should not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")
    return message


def send_mail(settings: MailSettings, *, to: str, subject: str, body: str) -> None:
    """Hand one plain-text message to the server; raise :class:`MailError` on any failure."""
    message = build_message(settings, to=to, subject=subject, body=body)
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
            if settings.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"{type(error).__name__}: {error}") from error
