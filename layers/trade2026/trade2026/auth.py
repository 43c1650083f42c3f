"""Who is calling: the Cognito claims API Gateway's authorizer put in the request context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trade2026.errors import Forbidden

GROUPS = ("admin", "trader", "viewer")


@dataclass(frozen=True)
class Caller:
    user_id: str  # Cognito `sub`: stable, never reused
    username: str
    email: str | None
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    def require_any(self, *groups: str) -> None:
        """403 unless the caller is in one of ``groups`` (admins pass every check)."""
        if self.is_admin or self.groups.intersection(groups):
            return
        raise Forbidden(
            f"This action needs one of the groups {sorted(groups)}; you are in {sorted(self.groups)}"
        )


def _parse_groups(raw: object) -> frozenset[str]:
    # API Gateway hands claims over as strings: a list of groups arrives as "[admin trader]" or "admin,trader".
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    text = str(raw or "").strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def caller_from_claims(claims: Mapping[str, object] | None) -> Caller:
    if not claims or "sub" not in claims:
        # The authorizer guarantees claims on protected routes; reaching here means a public route asked.
        raise Forbidden("This route needs a signed-in user")
    return Caller(
        user_id=str(claims["sub"]),
        username=str(claims.get("cognito:username") or claims.get("username") or claims["sub"]),
        email=str(claims["email"]) if claims.get("email") else None,
        groups=_parse_groups(claims.get("cognito:groups")),
    )
