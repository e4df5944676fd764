"""Sign-in throttling: after too many failures for one e-mail or from one address, refuse for a while.

Counters live in Redis with a sliding expiry. If Redis is unreachable, sign-in is allowed (and logged):
refusing every login because a cache is down would be worse than a short window without throttling.
"""

import logging
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.errors import TooManyRequests, Unauthorized
from tradeloom.identity import service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginThrottle:
    redis: Redis
    max_failures_per_email: int = 10
    max_failures_per_address: int = 100  # an office behind one NAT address has many people
    window_seconds: int = 900

    def _keys(self, email: str, client_ip: str | None) -> list[str]:
        keys = [f"tl:login-fail:email:{email.strip().lower()}"]
        if client_ip:
            keys.append(f"tl:login-fail:ip:{client_ip}")
        return keys

    async def check(self, email: str, client_ip: str | None) -> None:
        """429 while the e-mail or the address has too many recent failures."""
        try:
            counts = await self.redis.mget(self._keys(email, client_ip))
        except RedisError:
            log.warning("login throttle unavailable: redis unreachable")
            return
        limits = (self.max_failures_per_email, self.max_failures_per_address)
        if any(int(count or 0) >= limit for count, limit in zip(counts, limits, strict=False)):
            raise TooManyRequests(
                "Too many failed sign-ins; try again later.", code="too_many_sign_in_attempts",
                headers={"Retry-After": str(self.window_seconds)},
            )

    async def failed(self, email: str, client_ip: str | None) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in self._keys(email, client_ip):
                    pipe.incr(key)
                    pipe.expire(key, self.window_seconds)
                await pipe.execute()
        except RedisError:
            log.warning("login throttle unavailable: redis unreachable")

    async def authenticate(
        self, session: AsyncSession, *, email: str, password: str, client_ip: str | None
    ) -> uuid.UUID:
        """``service.authenticate`` behind the throttle: failures count, a success clears the e-mail's count."""
        await self.check(email, client_ip)
        try:
            user_id = await service.authenticate(session, email=email, password=password)
        except Unauthorized:
            await self.failed(email, client_ip)
            raise
        await self.succeeded(email)
        return user_id

    async def succeeded(self, email: str) -> None:
        try:
            await self.redis.delete(self._keys(email, None)[0])
        except RedisError:
            log.warning("login throttle unavailable: redis unreachable")
