"""Demo users of the local user pool: one per group, fresh passwords at every `trade2026 up`."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEMO_USERS = (("demo-admin", "admin"), ("demo-trader", "trader"), ("demo-viewer", "viewer"))


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    group: str


def _password() -> str:
    # Meets the pool's policy (12+ chars, upper, lower, digit); random so no credential lives in the repo.
    return f"Demo-{secrets.token_hex(6)}-Aa1"


def create_demo_users(cognito: Any, user_pool_id: str, state_dir: Path) -> list[DemoLogin]:
    logins = []
    for username, group in DEMO_USERS:
        password = _password()
        cognito.admin_create_user(
            UserPoolId=user_pool_id,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": f"{username}@trade2026.local"},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=username, GroupName=group)
        logins.append(DemoLogin(username, password, group))
    path = state_dir / "demo-logins.json"
    path.write_text(json.dumps([asdict(login) for login in logins], indent=2), encoding="utf-8")
    path.chmod(0o600)
    return logins


def create_demo_account(cognito: Any, client_id: str, api_url: str, login: DemoLogin) -> dict[str, Any]:
    """A paper trading account for the demo trader, opened through the API as that user would."""
    import urllib.request

    tokens = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": login.username, "PASSWORD": login.password},
    )["AuthenticationResult"]
    request = urllib.request.Request(  # noqa: S310 - the local gateway on 127.0.0.1
        f"{api_url}/v1/accounts",
        data=json.dumps({"name": "Demo paper account", "starting_cash": "1000000"}).encode(),
        headers={"Authorization": tokens["IdToken"], "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return dict(json.loads(response.read()))
