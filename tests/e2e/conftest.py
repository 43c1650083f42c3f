"""The built web UI served by one local cloud per session, started the way users start it (`trade2026 up`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.localcloud_process import running_local_cloud

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
OPENAPI = ROOT / "docs" / "openapi.json"
# What `npm run build` reads: a change to any of these makes frontend/dist stale.
BUILD_INPUTS = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json",
                "tsconfig.node.json")  # fmt: skip


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def _npm(*args: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: the web UI needs Node.js 20+ and npm (see frontend/README.md)")
    result = subprocess.run(
        [npm, *args], check=False, cwd=FRONTEND, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        pytest.fail(f"`npm {' '.join(args)}` failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def build_ui_if_stale() -> Path:
    """frontend/dist, rebuilt when a source, the lockfile or docs/openapi.json is newer than the build."""
    dist_index = FRONTEND / "dist" / "index.html"
    lock_stamp = FRONTEND / "node_modules" / ".package-lock.json"
    lockfile = FRONTEND / "package-lock.json"
    if not lock_stamp.exists() or lock_stamp.stat().st_mtime < lockfile.stat().st_mtime:
        _npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    inputs = [FRONTEND / name for name in BUILD_INPUTS if (FRONTEND / name).exists()] + [OPENAPI]
    if not dist_index.exists() or dist_index.stat().st_mtime < _newest_mtime(inputs):
        _npm("run", "build")
    return dist_index.parent


@dataclass
class UiCloud:
    base_url: str
    state_dir: Path
    logins: list[dict[str, str]]
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def ui_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiCloud]:
    # The gateway serves frontend/dist only if it exists when `up` starts: build first.
    build_ui_if_stale()
    state_dir = tmp_path_factory.mktemp("localcloud-ui")
    with running_local_cloud(state_dir) as running:
        logins: Any = json.loads((state_dir / "demo-logins.json").read_text())
        yield UiCloud(running.api_url, state_dir, logins, running.process)
