"""Factories for the foundation's objects. They write as the database owner (setup, not the code under test)."""

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.identity import credentials, service
from tradeloom.identity.models import Organization, User
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.identity.uscc import ALPHABET, check_character

PASSWORD = "correct horse battery staple"
TEST_SECRET = "test-secret-" + "x" * 32


def random_uscc() -> str:
    first17 = "91310000" + "".join(secrets.choice(ALPHABET) for _ in range(9))
    return first17 + check_character(first17)


@dataclass(frozen=True)
class Member:
    """A user acting for an organization, with the headers that authenticate them."""

    org: Organization
    user: User

    @property
    def headers(self) -> dict[str, str]:
        token = credentials.issue_access_token(secret=TEST_SECRET, user_id=self.user.id, org_id=self.org.id,
                                               minutes=5)
        return {"Authorization": f"Bearer {token}"}


async def make_org(session: AsyncSession, *, kind: OrgKind = OrgKind.BUYER, name: str | None = None) -> Organization:
    name = name or f"Org {uuid.uuid4().hex[:6]}"
    return await service.create_organization(session, name_zh=f"{name}有限公司", name_en=f"{name} Co., Ltd.",
                                             kind=kind, uscc=random_uscc())


async def make_member(
    session: AsyncSession, *, org: Organization | None = None, roles: tuple[Role, ...] = (Role.ORG_ADMIN,),
    kind: OrgKind = OrgKind.BUYER, email: str | None = None,
) -> Member:
    org = org or await make_org(session, kind=kind)
    user = await service.create_user(session, email=email or f"{uuid.uuid4().hex[:10]}@example.test",
                                     display_name="测试用户", password=PASSWORD)
    await service.add_member(session, org_id=org.id, user_id=user.id, roles=[role.value for role in roles])
    await session.flush()
    return Member(org=org, user=user)


def site_body(code: str = "PLANT-1", **overrides: object) -> dict[str, object]:
    return {"code": code, "kind": "plant", "name_zh": "一号工厂", "name_en": "Plant one", "province": "江苏省",
            "city": "苏州市", "address_line": "工业园区星湖街 328 号"} | overrides
