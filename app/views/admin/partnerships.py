"""Partnerships, their partners and their members."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import ALL_ROLES, partnership_role, staff_required
from app.db import get_session
from app.models import Role
from app.services import partnerships as service
from app.services.partnerships import PartnershipError
from app.services.rounds import allowed_targets
from app.views.admin import bp
from app.views.admin._helpers import actor, partner_or_404
from app.views.admin.forms import (
    ConfirmForm,
    MemberForm,
    MemberRoleForm,
    PartnerForm,
    PartnershipForm,
    set_partner_choices,
)


def _fail(form, field_name: str, error: Exception) -> None:
    get_session().rollback()
    getattr(form, field_name).errors.append(str(error))


@bp.get("/partnerships")
@staff_required
def partnerships():
    """List the partnerships the user has a role in (administrators: all)."""
    db = get_session()
    return render_template("admin/partnerships.html",
                           listings=service.partnerships_for(db, current_user),
                           can_create=service.can_create_partnership(db, current_user))


@bp.route("/partnerships/new", methods=["GET", "POST"])
@staff_required
def new_partnership():
    """Create a partnership (administrators, and users who already coordinate one)."""
    db = get_session()
    if not service.can_create_partnership(db, current_user):
        abort(403)
    form = PartnershipForm()
    if not current_user.is_admin:
        del form.coordinator_email
    if form.validate_on_submit():
        named = (form.coordinator_email.data or "") if "coordinator_email" in form else ""
        try:
            partnership = service.create_partnership(
                db, actor(), name=form.name.data, description=form.description.data or "",
                default_language=form.default_language.data,
                min_group_size=form.min_group_size.data, coordinator_email=named)
        except PartnershipError as error:
            _fail(form, "coordinator_email" if named else "name", error)
        else:
            db.commit()
            flash(_l("The partnership has been created."))
            return redirect(url_for("admin.partnership", partnership_id=partnership.id))
    return render_template("admin/partnership_form.html", form=form, partnership=None)


@bp.get("/partnerships/<int:partnership_id>")
@partnership_role(*ALL_ROLES)
def partnership(partnership_id: int):
    """The partnership at a glance: partners, rounds with their status, members."""
    db = get_session()
    is_coordinator = g.role is Role.COORDINATOR
    return render_template(
        "admin/partnership.html",
        partnership=g.partnership,
        is_coordinator=is_coordinator,
        members=service.members_of(db, g.partnership),
        allowed_targets=allowed_targets,
    )


@bp.route("/partnerships/<int:partnership_id>/edit", methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def edit_partnership(partnership_id: int):
    form = PartnershipForm(obj=g.partnership)
    del form.coordinator_email
    if form.validate_on_submit():
        db = get_session()
        try:
            service.update_partnership(
                db, actor(), g.partnership, name=form.name.data,
                description=form.description.data or "",
                default_language=form.default_language.data,
                min_group_size=form.min_group_size.data)
        except PartnershipError as error:
            _fail(form, "min_group_size", error)
        else:
            db.commit()
            flash(_l("The partnership has been saved."))
            return redirect(url_for("admin.partnership", partnership_id=partnership_id))
    return render_template("admin/partnership_form.html", form=form, partnership=g.partnership)


# ---------------------------------------------------------------------------------- partners


@bp.route("/partnerships/<int:partnership_id>/partners/new", methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def new_partner(partnership_id: int):
    form = PartnerForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            service.add_partner(db, actor(), g.partnership, name=form.name.data,
                                sector=form.sector.data)
        except PartnershipError as error:
            _fail(form, "name", error)
        else:
            db.commit()
            flash(_l("The partner has been added."))
            return redirect(url_for("admin.partnership", partnership_id=partnership_id))
    return render_template("admin/partner_form.html", form=form, partnership=g.partnership,
                           partner=None)


@bp.route("/partnerships/<int:partnership_id>/partners/<int:partner_id>/edit",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def edit_partner(partnership_id: int, partner_id: int):
    partner = partner_or_404(partner_id)
    form = PartnerForm(obj=partner)
    if request.method == "GET":
        form.sector.data = partner.sector.value
    if form.validate_on_submit():
        db = get_session()
        try:
            service.update_partner(db, actor(), partner, name=form.name.data,
                                   sector=form.sector.data)
        except PartnershipError as error:
            _fail(form, "name", error)
        else:
            db.commit()
            flash(_l("The partner has been saved."))
            return redirect(url_for("admin.partnership", partnership_id=partnership_id))
    return render_template("admin/partner_form.html", form=form, partnership=g.partnership,
                           partner=partner)


@bp.route("/partnerships/<int:partnership_id>/partners/<int:partner_id>/delete",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def delete_partner(partnership_id: int, partner_id: int):
    """Confirm, then delete a partner that has not taken part in a started round."""
    db = get_session()
    partner = partner_or_404(partner_id)
    form = ConfirmForm()
    problem = service.partner_deletion_problem(db, partner)
    if problem is None and form.validate_on_submit():
        service.delete_partner(db, actor(), partner)
        db.commit()
        flash(_l("The partner has been deleted."))
        return redirect(url_for("admin.partnership", partnership_id=partnership_id))
    status = 409 if problem and request.method == "POST" else 200
    return render_template("admin/partner_delete.html", form=form, partnership=g.partnership,
                           partner=partner, problem=problem), status


# ----------------------------------------------------------------------------------- members


@bp.route("/partnerships/<int:partnership_id>/members", methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def members(partnership_id: int):
    """List members with forms to change their role, and add an existing user."""
    db = get_session()
    form = MemberForm()
    set_partner_choices(form, g.partnership.partners)
    if form.validate_on_submit():
        try:
            service.add_member(db, actor(), g.partnership, email=form.email.data,
                               role=Role(form.role.data), partner_id=form.partner_id.data)
        except PartnershipError as error:
            _fail(form, "email", error)
        else:
            db.commit()
            flash(_l("The member has been added."))
            return redirect(url_for("admin.members", partnership_id=partnership_id))
    return _render_members(form, 400 if form.errors else 200)


def _role_form(membership) -> MemberRoleForm:
    role_form = MemberRoleForm(prefix=f"m{membership.id}", formdata=None,
                               role=membership.role.value, partner_id=membership.partner_id)
    set_partner_choices(role_form, g.partnership.partners)
    return role_form


def _render_members(add_form: MemberForm, status: int = 200,
                    failed: tuple[int, MemberRoleForm] | None = None):
    listed = service.members_of(get_session(), g.partnership)
    role_forms = {m.id: _role_form(m) for m in listed}
    if failed is not None:
        role_forms[failed[0]] = failed[1]
    return render_template("admin/members.html", partnership=g.partnership, form=add_form,
                           members=listed, role_forms=role_forms, confirm=ConfirmForm()), status


def _membership_or_404(membership_id: int):
    membership = service.membership_in(get_session(), g.partnership, membership_id)
    if membership is None:
        abort(404)
    return membership


@bp.post("/partnerships/<int:partnership_id>/members/<int:membership_id>")
@partnership_role(Role.COORDINATOR)
def edit_member(partnership_id: int, membership_id: int):
    db = get_session()
    membership = _membership_or_404(membership_id)
    form = MemberRoleForm(prefix=f"m{membership.id}")
    set_partner_choices(form, g.partnership.partners)
    if form.validate_on_submit():
        try:
            service.change_member(db, actor(), membership, role=Role(form.role.data),
                                  partner_id=form.partner_id.data)
        except PartnershipError as error:
            _fail(form, "role", error)
        else:
            db.commit()
            flash(_l("The role has been changed."))
            return redirect(url_for("admin.members", partnership_id=partnership_id))
    add_form = MemberForm(formdata=None)
    set_partner_choices(add_form, g.partnership.partners)
    return _render_members(add_form, 400, failed=(membership.id, form))


@bp.post("/partnerships/<int:partnership_id>/members/<int:membership_id>/remove")
@partnership_role(Role.COORDINATOR)
def remove_member(partnership_id: int, membership_id: int):
    db = get_session()
    membership = _membership_or_404(membership_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.remove_member(db, actor(), membership)
    except PartnershipError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.members", partnership_id=partnership_id))
    db.commit()
    flash(_l("The member has been removed."))
    if membership.user_id == current_user.id and not current_user.is_admin:
        return redirect(url_for("main.index"))
    return redirect(url_for("admin.members", partnership_id=partnership_id))
