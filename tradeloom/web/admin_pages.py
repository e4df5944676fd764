"""Administration pages: the platform's organization directory and an organization's members."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tradeloom.audit import record_audit
from tradeloom.errors import TradeloomError
from tradeloom.identity import service as identity
from tradeloom.identity.roles import OrgKind, Permission, Role
from tradeloom.identity.schemas import MemberCreate, OrganizationCreate
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_fields
from tradeloom.web.pages import Member
from tradeloom.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@router.get("/organizations")
async def organizations_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.PLATFORM_MANAGE)
    return await _render_organizations(request, principal, tx, errors=[], form={})


@router.post("/organizations")
async def register_organization(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.PLATFORM_MANAGE)
    form = await form_fields(request)
    session = await tx.session()
    try:
        fields = OrganizationCreate.model_validate(form)
        organization = await identity.create_organization(session, **fields.model_dump())
    except (ValidationError, TradeloomError) as exc:
        return await _render_organizations(request, principal, tx, errors=form_errors(exc), form=form)
    await record_audit(session, actor=principal.actor, action="organization.created", object_type="organization",
                       object_id=organization.id, details=form)
    return RedirectResponse("/organizations", status_code=303)


async def _render_organizations(request: Request, principal: Member, tx: Tx, *, errors: list[str],
                                form: dict[str, str]) -> Response:
    organizations = await identity.list_organizations(await tx.session())
    return render(request, "organizations.html",
                  {"organizations": organizations, "kinds": list(OrgKind), "errors": errors, "form": form},
                  principal=principal, status_code=422 if errors else 200)


@router.get("/members")
async def members_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.MEMBERS_MANAGE)
    return await _render_members(request, principal, tx, errors=[], form={})


@router.post("/members")
async def add_member(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.MEMBERS_MANAGE)
    form_data = await request.form()
    form = await form_fields(request)
    fields = form | {"roles": [str(role) for role in form_data.getlist("roles")]}
    session = await tx.session()
    try:
        member = MemberCreate.model_validate(fields)
        user = await identity.invite_member(session, org_id=principal.org_id, **member.model_dump(mode="json"))
    except (ValidationError, TradeloomError) as exc:
        return await _render_members(request, principal, tx, errors=form_errors(exc), form=form)
    await record_audit(session, actor=principal.actor, action="member.added", object_type="user", object_id=user.id,
                       details={"roles": fields["roles"]})
    return RedirectResponse("/members", status_code=303)


async def _render_members(request: Request, principal: Member, tx: Tx, *, errors: list[str],
                          form: dict[str, str]) -> Response:
    members = await identity.list_members(await tx.session())
    assignable = [role for role in Role if role != Role.PLATFORM_ADMIN or principal.is_platform_admin]
    return render(request, "members.html", {"members": members, "roles": assignable, "errors": errors, "form": form},
                  principal=principal, status_code=422 if errors else 200)
