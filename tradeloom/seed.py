"""The demo world: a platform operator, 3 buyers, 5 suppliers, a logistics provider and a financier.

Run by ``tradeloom seed-demo`` (and by ``make run`` once). Idempotent: organizations are found by their
unified social credit code and only what is missing is created. Domain packages add to the same world.
"""

import hashlib
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.audit import Actor
from tradeloom.identity import service as identity
from tradeloom.identity.models import Organization, User
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.identity.uscc import ALPHABET, check_character
from tradeloom.sites import service as sites
from tradeloom.sites.models import Site
from tradeloom.sites.schemas import SiteCreate, SiteKind

DEMO_PASSWORD = "Tradeloom-demo-2026"  # noqa: S105 - printed to the user; demo data only


@dataclass(frozen=True)
class DemoCompany:
    key: str
    name_zh: str
    name_en: str
    kind: OrgKind
    region: str  # 6-digit administrative division code, part of the USCC
    province: str
    city: str
    address: str
    staff: tuple[tuple[str, str, tuple[Role, ...]], ...]  # (mailbox, display name, roles)


_BUYER_STAFF = (
    ("admin", "王建国", (Role.ORG_ADMIN,)), ("buyer", "李娜", (Role.BUYER,)),
    ("approver", "张伟", (Role.APPROVER,)), ("warehouse", "刘洋", (Role.WAREHOUSE,)),
    ("finance", "陈静", (Role.FINANCE,)), ("auditor", "杨帆", (Role.AUDITOR,)),
)
_SUPPLIER_STAFF = (
    ("admin", "赵磊", (Role.ORG_ADMIN,)), ("sales", "孙丽", (Role.SUPPLIER_SALES,)),
    ("warehouse", "周强", (Role.WAREHOUSE,)), ("finance", "吴敏", (Role.FINANCE,)),
)

COMPANIES = (
    DemoCompany("operator", "织贸科技（上海）有限公司", "Tradeloom Technology (Shanghai) Co., Ltd.",
                OrgKind.PLATFORM_OPERATOR, "310115", "上海市", "浦东新区", "张江路 88 号",
                (("ops", "平台管理员", (Role.PLATFORM_ADMIN,)), ("audit", "平台审计", (Role.AUDITOR,)))),
    DemoCompany("ecm", "华东重工机械股份有限公司", "East China Heavy Machinery Co., Ltd.", OrgKind.BUYER,
                "310112", "上海市", "闵行区", "江川路 1800 号", _BUYER_STAFF),
    DemoCompany("szsm", "深圳智造电子有限公司", "Shenzhen Smart Manufacturing Electronics Co., Ltd.",
                OrgKind.BUYER, "440306", "广东省", "深圳市", "宝安区福永街道凤凰路 12 号", _BUYER_STAFF),
    DemoCompany("tjap", "天津海滨汽车零部件有限公司", "Tianjin Binhai Auto Parts Co., Ltd.", OrgKind.BUYER,
                "120116", "天津市", "滨海新区", "第九大街 56 号", _BUYER_STAFF),
    DemoCompany("nbpf", "宁波精工紧固件有限公司", "Ningbo Precision Fasteners Co., Ltd.", OrgKind.SUPPLIER,
                "330212", "浙江省", "宁波市", "鄞州区金谷北路 333 号", _SUPPLIER_STAFF),
    DemoCompany("wxht", "无锡恒通轴承有限公司", "Wuxi Hengtong Bearing Co., Ltd.", OrgKind.SUPPLIER,
                "320214", "江苏省", "无锡市", "新吴区锡兴路 21 号", _SUPPLIER_STAFF),
    DemoCompany("wzoj", "温州瓯江阀门有限公司", "Wenzhou Oujiang Valve Co., Ltd.", OrgKind.SUPPLIER,
                "330304", "浙江省", "温州市", "瓯海区经济开发区东方路 9 号", _SUPPLIER_STAFF),
    DemoCompany("czxd", "常州新动力电机有限公司", "Changzhou New Power Motor Co., Ltd.", OrgKind.BOTH,
                "320411", "江苏省", "常州市", "新北区汉江路 368 号", _SUPPLIER_STAFF),
    DemoCompany("jshg", "江苏华钢钢材贸易有限公司", "Jiangsu Huagang Steel Trading Co., Ltd.", OrgKind.SUPPLIER,
                "320505", "江苏省", "苏州市", "虎丘区金山路 150 号", _SUPPLIER_STAFF),
    DemoCompany("sdwl", "顺达物流（上海）有限公司", "Shunda Logistics (Shanghai) Co., Ltd.",
                OrgKind.LOGISTICS_PROVIDER, "310118", "上海市", "青浦区", "华新镇华志路 1200 号",
                (("admin", "钱进", (Role.ORG_ADMIN,)), ("dispatch", "郑凯", (Role.WAREHOUSE,)))),
    DemoCompany("pjfin", "浦江供应链金融服务有限公司", "Pujiang Supply Chain Finance Co., Ltd.",
                OrgKind.FINANCIER, "310101", "上海市", "黄浦区", "中山东一路 18 号",
                (("admin", "冯涛", (Role.ORG_ADMIN,)), ("credit", "何琳", (Role.FINANCE,)))),
)


@dataclass
class DemoWorld:
    """What the demo seed made, for domain seeds to build on: org ids and user ids by key."""

    organizations: dict[str, uuid.UUID] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)  # "ecm.buyer" -> user id

    def logins(self) -> list[str]:
        return sorted(f"{key.split('.')[1]}@{key.split('.')[0]}.demo" for key in self.users)


def demo_uscc(company: DemoCompany) -> str:
    """A well-formed unified social credit code derived from the company (stable across runs)."""
    digest = hashlib.sha256(company.key.encode()).digest()
    organization_code = "".join(ALPHABET[byte % 31] for byte in digest[:9])
    first17 = "91" + company.region + organization_code
    return first17 + check_character(first17)


async def seed_world(session: AsyncSession) -> DemoWorld:
    """Create what is missing of the demo world (runs as the database owner, like a migration)."""
    world = DemoWorld()
    for company in COMPANIES:
        org_id = await ensure_organization(session, company)
        world.organizations[company.key] = org_id
        for mailbox, display_name, roles in company.staff:
            world.users[f"{company.key}.{mailbox}"] = await _member(
                session, org_id, f"{mailbox}@{company.key}.demo", display_name, roles
            )
        await _main_site(session, company, org_id)
    return world


async def ensure_organization(session: AsyncSession, company: DemoCompany) -> uuid.UUID:
    uscc = demo_uscc(company)
    existing = await session.scalar(select(Organization.id).where(Organization.uscc == uscc))
    if existing:
        return existing
    organization = await identity.create_organization(
        session, name_zh=company.name_zh, name_en=company.name_en, kind=company.kind, uscc=uscc
    )
    return organization.id


async def _member(
    session: AsyncSession, org_id: uuid.UUID, email: str, display_name: str, roles: tuple[Role, ...]
) -> uuid.UUID:
    existing = await session.scalar(select(User.id).where(User.email == email))
    if existing:
        return existing
    user = await identity.create_user(session, email=email, display_name=display_name, password=DEMO_PASSWORD,
                                      locale="zh_CN")
    await identity.add_member(session, org_id=org_id, user_id=user.id, roles=[role.value for role in roles])
    return user.id


async def _main_site(session: AsyncSession, company: DemoCompany, org_id: uuid.UUID) -> None:
    code = "HQ" if company.kind in (OrgKind.PLATFORM_OPERATOR, OrgKind.FINANCIER) else "MAIN"
    if await session.scalar(select(Site.id).where(Site.org_id == org_id, Site.code == code)):
        return
    kind = SiteKind.OFFICE if code == "HQ" else (
        SiteKind.PLANT if company.kind in (OrgKind.BUYER, OrgKind.BOTH) else SiteKind.WAREHOUSE
    )
    short_name_en = company.name_en.split(" Co.")[0]
    fields = SiteCreate(
        code=code, kind=kind, name_zh=f"{company.name_zh}总部" if code == "HQ" else f"{company.city}基地",
        name_en="Head office" if code == "HQ" else f"{short_name_en} main site",
        province=company.province, city=company.city, address_line=company.address,
    )
    await sites.create_site(session, actor=Actor(org_id=org_id), fields=fields)
