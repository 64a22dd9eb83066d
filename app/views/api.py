"""The read-only JSON API (``/api/v1``), for programs holding a personal access token.

Only ``Authorization: Bearer <token>`` authenticates here; session cookies are ignored, so a
signed-in browser cannot be made to call the API by another site (and the blueprint needs no
CSRF protection). The token's owner's memberships decide access exactly as on the pages:
another partnership's objects are 404, the wrong role 403. Every answer is JSON, errors and
unknown URLs under the prefix included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.api.openapi import openapi_document
from app.auth.access import ALL_ROLES, public
from app.db import get_session, new_session
from app.extensions import csrf
from app.models import Membership, Partnership, Role, Round, User
from app.results.rounds import ordered
from app.results.snapshots import over_time_snapshot as over_time_for
from app.results.snapshots import round_snapshot
from app.services import api_tokens, followup_api

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("api", __name__)
# No cookie authenticates here, so there is no cross-site request to forge.
csrf.exempt(bp)

REALM = 'Bearer realm="Mitra Sehat API"'
API_METHODS = "GET, HEAD, OPTIONS"
# Ids are 32-bit integer columns; a larger number in a URL names nothing (and PostgreSQL
# would refuse to compare it).
MAX_ID = 2**31 - 1
# One message for "does not exist" and "not yours", so ids of other tenants cannot be probed.
NOT_FOUND = "There is no such object, or it is not in a partnership you have a role in."


class ApiError(HTTPException):
    """An error answered as ``{"error": code, "message": message}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.code = status
        self.error_code = code
        self.message = message


def _json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    response = jsonify(error=code, message=message)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    headers = {"WWW-Authenticate": _challenge(error.error_code)} if error.code == 401 else None
    return _json_error(error.code or 500, error.error_code, error.message, headers)


@bp.errorhandler(HTTPException)
def json_http_error(error: HTTPException):
    code = error.code or 500
    headers = {"Allow": API_METHODS} if code == 405 else None
    return _json_error(code, (error.name or "error").lower().replace(" ", "_"),
                       error.description or error.name or "", headers)


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return json_http_error(error)
    current_app.logger.exception("Unhandled error in the API")
    return _json_error(500, "server_error", "An unexpected error happened.")


def _challenge(code: str) -> str:
    return REALM if code == "missing_token" else f'{REALM}, error="invalid_token"'


# --------------------------------------------------------------------------- access


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "missing_token",
                       "Send a personal access token as 'Authorization: Bearer <token>'.")
    return value.strip()


def _authenticate() -> User:
    """Find the token's owner; note the day of use (one write per token and day at most)."""
    today = date.today()
    found = api_tokens.authenticate(get_session(), _bearer_token(), today)
    if found is None:
        raise ApiError(401, "invalid_token", "The token is unknown, revoked or expired.")
    token, user = found
    if token.last_used_on != today:
        # A short write of its own: API requests only read, and their session stays so. The
        # date is bookkeeping: failing to note it must not refuse the read.
        writer = new_session()
        try:
            api_tokens.note_use(writer, token.id, today)
            writer.commit()
        except SQLAlchemyError:
            writer.rollback()
            current_app.logger.warning("could not note the use of API token %s", token.id)
        finally:
            writer.close()
    return user


def _tenant(kwargs: dict[str, Any]) -> Partnership | None:
    """The partnership a URL addresses, through its round where the URL names one."""
    db = get_session()
    if any(not 0 < kwargs[key] <= MAX_ID for key in ("round_id", "partnership_id")
           if key in kwargs):
        raise ApiError(404, "not_found", NOT_FOUND)
    if "round_id" in kwargs:
        round_ = db.get(Round, kwargs["round_id"])
        if round_ is None:
            raise ApiError(404, "not_found", NOT_FOUND)
        g.api_round = round_
        return round_.partnership
    if "partnership_id" in kwargs:
        partnership = db.get(Partnership, kwargs["partnership_id"])
        if partnership is None:
            raise ApiError(404, "not_found", NOT_FOUND)
        return partnership
    return None


def _role(user: User, partnership: Partnership) -> Role | None:
    if user.is_admin:
        return Role.COORDINATOR
    return get_session().scalar(select(Membership.role).where(
        Membership.user_id == user.id, Membership.partnership_id == partnership.id))


def api_token_required(*roles: Role) -> Callable[[F], F]:
    """Require a valid personal access token, and one of ``roles`` in the addressed tenant.

    The tenant is the partnership of the URL's ``round_id`` or ``partnership_id``. Without
    roles the view addresses no tenant and must scope its own query to ``g.api_user``. Sets
    ``g.api_user``, and ``g.partnership`` and ``g.role`` for tenant URLs.
    """
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.api_user = _authenticate()
            partnership = _tenant(kwargs)
            if allowed and partnership is None:
                raise RuntimeError(f"{view.__name__} names roles but its URL no partnership")
            if partnership is not None:
                role = _role(g.api_user, partnership)
                if role is None:
                    raise ApiError(404, "not_found", NOT_FOUND)
                if role not in allowed:
                    raise ApiError(403, "forbidden", "Your role does not allow this.")
                g.partnership = partnership
                g.role = role
            return view(*args, **kwargs)

        wrapper.access_rule = ("api", tuple(sorted(r.value for r in allowed)))  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


# --------------------------------------------------------------------------- representations


def _partnership(partnership: Partnership, role: Role) -> dict[str, Any]:
    return {"id": partnership.id, "name": partnership.name,
            "description": partnership.description,
            "default_language": partnership.default_language,
            "min_group_size": partnership.min_group_size, "role": role.value}


def _round(round_: Round) -> dict[str, Any]:
    version = round_.questionnaire_version
    return {"id": round_.id, "name": round_.name, "status": round_.status.value,
            "opens_on": round_.opens_on.isoformat() if round_.opens_on else None,
            "closes_on": round_.closes_on.isoformat() if round_.closes_on else None,
            "questionnaire": {"slug": version.slug, "version": version.version,
                              "title": version.title},
            "partner_ids": [partner.id for partner in round_.partners]}


# --------------------------------------------------------------------------- endpoints


@bp.get("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())


@bp.get("/partnerships")
@api_token_required()
def partnerships():
    """The partnerships the token's owner has a role in (all of them for site admins)."""
    user: User = g.api_user
    db = get_session()
    if user.is_admin:
        rows = [(p, Role.COORDINATOR) for p in db.scalars(
            select(Partnership).order_by(Partnership.name, Partnership.id))]
    else:
        rows = [(p, role) for p, role in db.execute(
            select(Partnership, Membership.role).join(
                Membership, Membership.partnership_id == Partnership.id)
            .where(Membership.user_id == user.id)
            .order_by(Partnership.name, Partnership.id))]
    return jsonify(partnerships=[_partnership(p, role) for p, role in rows])


@bp.get("/partnerships/<int:partnership_id>")
@api_token_required(*ALL_ROLES)
def partnership(partnership_id: int):
    body = _partnership(g.partnership, g.role)
    body["partners"] = [{"id": p.id, "name": p.name, "sector": p.sector.value}
                        for p in g.partnership.partners]
    return jsonify(body)


@bp.get("/partnerships/<int:partnership_id>/rounds")
@api_token_required(*ALL_ROLES)
def rounds(partnership_id: int):
    return jsonify(rounds=[_round(r) for r in ordered(g.partnership.rounds)])


@bp.get("/rounds/<int:round_id>/results")
@api_token_required(*ALL_ROLES)
def round_results(round_id: int):
    """The round's published snapshot, exactly as the results pages read it.

    The raw numbers: a page, the report and the slides print them rounded by
    :class:`app.results.numbers.Numbers` (half up), so each rounds to the text shown there.
    """
    round_: Round = g.api_round
    results = round_snapshot(get_session(), round_)
    if results is None:
        raise ApiError(404, "no_results", "This round has no responses yet.")
    return jsonify(results)


@bp.get("/partnerships/<int:partnership_id>/over-time")
@api_token_required(*ALL_ROLES)
def over_time(partnership_id: int):
    results = over_time_for(get_session(), g.partnership)
    if results is None:
        raise ApiError(404, "no_results", "Results over time need at least two closed rounds.")
    return jsonify(results)


@bp.get("/partnerships/<int:partnership_id>/actions")
@api_token_required(*ALL_ROLES)
def actions(partnership_id: int):
    """The action register: every follow-up action with status and impact line."""
    return jsonify(actions=followup_api.actions_json(get_session(), g.partnership,
                                                     date.today()))


@bp.get("/partnerships/<int:partnership_id>/commitments")
@api_token_required(*ALL_ROLES)
def commitments(partnership_id: int):
    """The commitments register: pledges per partner with their review per round."""
    return jsonify(commitments=followup_api.commitments_json(get_session(), g.partnership))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"])
@public
def not_found(rest: str):
    """Answer unknown URLs and methods under the prefix in JSON, not with the HTML pages."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(request.path, method="GET")
    except HTTPException:
        endpoint = None
    if request.method not in {"GET", "HEAD"} and endpoint not in {None, "api.not_found"}:
        raise MethodNotAllowed(valid_methods=["GET", "HEAD", "OPTIONS"])
    raise NotFound("There is no such API endpoint. See /api/v1/openapi.json.")
