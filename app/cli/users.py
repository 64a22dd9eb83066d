"""``flask user``: create staff accounts from the command line."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.passwords import hash_password, password_problem
from app.db import new_session
from app.models import Membership, Partnership, Role, User

user_group = AppGroup("user", help="Manage staff accounts.")


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Display name (default: the part before @).")
@click.option("--password", default=None, help="Default: a random password, printed once.")
@click.option("--admin", is_flag=True, help="Make the user a site administrator.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="Role in the partnership given by --partnership.")
@click.option("--partnership", "partnership_id", type=int, default=None)
@click.option("--language", type=click.Choice(["id", "en"]), default="id")
def create(email: str, name: str, password: str | None, admin: bool, role: str | None,
           partnership_id: int | None, language: str) -> None:
    """Create a staff user, optionally with a role in one partnership."""
    if (role is None) != (partnership_id is None):
        raise click.ClickException("--role and --partnership go together")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(f"password refused: {problem}")
    session = new_session()
    try:
        email = email.strip().lower()
        if session.scalar(select(User).where(User.email == email)):
            raise click.ClickException(f"a user with email {email} already exists")
        user = User(email=email, name=name or email.split("@")[0], is_admin=admin,
                    password_hash=hash_password(password), language=language)
        session.add(user)
        session.flush()
        if role is not None:
            if session.get(Partnership, partnership_id) is None:
                raise click.ClickException(f"no partnership with id {partnership_id}")
            session.add(Membership(user_id=user.id, partnership_id=partnership_id, role=Role(role)))
        session.commit()
    finally:
        session.close()
    click.echo(f"Created {email}" + (f" with password {password}" if generated else ""))
