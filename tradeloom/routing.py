"""The API routers' class: a router declines a request outside its prefix before trying its routes."""

from fastapi import APIRouter
from starlette._utils import get_route_path  # as FastAPI's own routes read the path
from starlette.routing import Match
from starlette.types import Scope


class PrefixedRouter(APIRouter):
    """An ``APIRouter`` (with a ``prefix``, included without another) that answers "no match" at once for a
    path outside its prefix.

    FastAPI 0.165 matches a request against the routes of every included router in turn, one regular
    expression each, and does so twice (to select the router, then to hand the request over): with 400 routes
    that was ~8 % of an order's CPU (BENCHMARKS.md, "Where an order's CPU goes"). fastapi/fastapi#16159
    proposes the same check upstream. Where FastAPI does not ask the router (earlier versions copy the routes
    into the app), this changes nothing.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(self.prefix):  # the path below the app's root_path
            return Match.NONE, {}
        return super().matches(scope)
