"""`trade2026 publish-ui`: put the built web UI (frontend/dist) in the stack's UI bucket behind CloudFront.

Runs after `sam deploy` (AWS only; `trade2026 deploy` calls it). From the stack it reads the outputs (UiBucketName,
ApiUrl, UserPoolId, UserPoolClientId) and the UiOrigin parameter; the distribution is the one whose origin is
that bucket. Then: build the frontend when dist/ is missing or older than its sources, upload every file with
its Content-Type and Cache-Control (content-hashed bundles immutable for a year, everything else revalidated),
write /config.json (the UI's runtime settings, as the local gateway serves them), delete objects no longer in
dist/, and invalidate the entry page and the settings at the edge.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

CONFIG_KEY = "config.json"
INDEX_KEY = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
INVALIDATED_PATHS = ("/", f"/{INDEX_KEY}", f"/{CONFIG_KEY}")
REQUIRED_OUTPUTS = ("UiBucketName", "ApiUrl", "UserPoolId", "UserPoolClientId")
# Vite writes every bundle and imported asset as assets/<name>-<content hash>.<ext>: a new build, a new name.
_HASHED_ASSET = re.compile(r"^assets/(?:.+/)?[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$")
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
}
# What `npm run build` reads (the API client is generated from docs/openapi.json): newer than dist/ -> stale.
_BUILD_INPUTS = (
    "src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json",
    "tsconfig.node.json", "../docs/openapi.json",
)  # fmt: skip
_LOCAL_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDFRONT", "AWS_ENDPOINT_URL_CLOUDFORMATION",
)  # fmt: skip


class PublishError(Exception):
    """The UI cannot be published; the message says why and what to do."""


@dataclass(frozen=True)
class StackInfo:
    name: str
    region: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    @property
    def stage(self) -> str:
        return self.parameters.get("Stage", "dev")


@dataclass(frozen=True)
class Distribution:
    id: str
    domain_name: str

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}"


@dataclass(frozen=True)
class UiFile:
    key: str
    body: bytes
    content_type: str
    cache_control: str


@dataclass
class PublishReport:
    url: str
    uploaded: list[str] = field(default_factory=list)
    uploaded_bytes: int = 0
    deleted: list[str] = field(default_factory=list)
    invalidation_id: str = ""


def local_endpoint_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The set AWS endpoint overrides (they point at the local cloud): publishing must refuse to run with any."""
    env = os.environ if environ is None else environ
    return [name for name in _LOCAL_ENDPOINT_VARIABLES if env.get(name)]


# ---------------------------------------------------------------------------------------------- the stack
def read_stack(cloudformation: Any, stack_name: str) -> StackInfo:
    """Outputs and parameters of the deployed stack; an error naming what is missing if it cannot serve a UI."""
    from botocore.exceptions import ClientError

    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise PublishError(
            f"Cannot read stack {stack_name}: {exc.response['Error'].get('Message', exc)} "
            "(deploy it first: trade2026 deploy)"
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise PublishError(
            f"Stack {stack_name} has no output {', '.join(missing)}: deploy the current template.yaml first "
            "(trade2026 deploy)"
        )
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return StackInfo(stack_name, cloudformation.meta.region_name, outputs, parameters)


def find_distribution(cloudfront: Any, bucket: str, region: str) -> Distribution:
    """The CloudFront distribution that serves the UI bucket (its origin is the bucket's S3 endpoint)."""
    endpoints = {f"{bucket}.s3.{region}.amazonaws.com", f"{bucket}.s3.amazonaws.com"}
    found = [
        Distribution(item["Id"], item["DomainName"])
        for page in cloudfront.get_paginator("list_distributions").paginate()
        for item in page.get("DistributionList", {}).get("Items", [])
        if endpoints & {origin["DomainName"] for origin in item.get("Origins", {}).get("Items", [])}
    ]
    if len(found) != 1:
        which = ", ".join(d.id for d in found) if found else "none"
        raise PublishError(f"Expected one CloudFront distribution in front of bucket {bucket}; found {which}")
    return found[0]


def public_config(stack: StackInfo) -> dict[str, Any]:
    """The UI's /config.json on AWS: the same fields the local gateway serves (frontend/src/config.ts)."""
    return {
        "apiUrl": stack.outputs["ApiUrl"].rstrip("/"),
        "region": stack.region,
        "userPoolId": stack.outputs["UserPoolId"],
        "userPoolClientId": stack.outputs["UserPoolClientId"],
        "cognitoEndpoint": None,  # the regional Cognito endpoint (the UI derives it from the region)
        "stage": stack.stage,
        "local": False,
    }


def origin_warning(stack: StackInfo, ui_url: str) -> str | None:
    """Why browsers at the UI's URL would be refused by the API's CORS (parameter UiOrigin), and the fix."""
    origin = stack.parameters.get("UiOrigin")
    if origin is None or origin.rstrip("/") == ui_url:
        return None
    return (
        f"The API allows browser calls from {origin} only (parameter UiOrigin), not from the UI at {ui_url}: "
        f"add UiOrigin={ui_url} to parameter_overrides of [{stack.stage}.deploy.parameters] in samconfig.toml "
        f"(and infra/params/{stack.stage}.json), then run trade2026 deploy again."
    )


# ---------------------------------------------------------------------------------------------- the build
def _newest_mtime(paths: Iterable[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
        elif path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def dist_is_stale(frontend: Path) -> bool:
    """True when dist/index.html is missing or older than any file the build reads."""
    index = frontend / "dist" / INDEX_KEY
    if not index.is_file():
        return True
    return _newest_mtime(frontend / name for name in _BUILD_INPUTS) > index.stat().st_mtime


def build_frontend(frontend: Path) -> None:
    """`npm run build` in frontend/ (type check + Vite build into dist/); its output goes to the terminal."""
    npm = shutil.which("npm")
    if npm is None:
        raise PublishError("npm is not installed: install Node.js 20.19+ to build the web UI (frontend/)")
    if not (frontend / "node_modules").is_dir():
        raise PublishError(
            f"{frontend}/node_modules is missing: run `npm ci` in {frontend} (or `make frontend`)"
        )
    # npm's update check would call its registry: the build needs no network.
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    result = subprocess.run([npm, "run", "build"], cwd=frontend, env=env, check=False)
    if result.returncode != 0:
        raise PublishError(
            f"`npm run build` in {frontend} failed (exit {result.returncode}); see its output above"
        )
    if not (frontend / "dist" / INDEX_KEY).is_file():
        raise PublishError(f"`npm run build` wrote no {frontend}/dist/{INDEX_KEY}")


# ---------------------------------------------------------------------------------------------- the upload
def content_type(key: str) -> str:
    return _CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def cache_control(key: str) -> str:
    """Content-hashed bundles never change under their name; the rest (index.html, config.json) revalidates."""
    return IMMUTABLE if _HASHED_ASSET.match(key) else REVALIDATE


def plan_files(dist: Path, config: Mapping[str, Any]) -> list[UiFile]:
    """Every file to put, in a safe order: bundles first, then the rest, config.json, and index.html last
    (a browser never loads an entry page whose bundles are not there yet)."""
    if not (dist / INDEX_KEY).is_file():
        raise PublishError(f"{dist} has no {INDEX_KEY}: build the UI first (npm run build in frontend/)")
    keys = sorted(
        path.relative_to(dist).as_posix()
        for path in dist.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(dist).parts)
    )
    keys = [key for key in keys if key != CONFIG_KEY]  # the stack's settings replace any built placeholder
    files = [UiFile(key, (dist / key).read_bytes(), content_type(key), cache_control(key)) for key in keys]
    settings = (json.dumps(dict(config), indent=2) + "\n").encode()
    files.append(UiFile(CONFIG_KEY, settings, content_type(CONFIG_KEY), REVALIDATE))

    return sorted(files, key=lambda file: (_upload_rank(file.key), file.key))


def _upload_rank(key: str) -> int:
    last = {CONFIG_KEY: 2, INDEX_KEY: 3}
    return last.get(key, 0 if _HASHED_ASSET.match(key) else 1)


def _existing_keys(s3: Any, bucket: str) -> set[str]:
    return {
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }


def publish(
    s3: Any,
    cloudfront: Any,
    bucket: str,
    distribution: Distribution,
    files: list[UiFile],
    on_upload: Callable[[UiFile], None] | None = None,
) -> PublishReport:
    """Upload ``files``, delete what the bucket holds beyond them (config.json always stays), invalidate."""
    report = PublishReport(url=distribution.url)
    before = _existing_keys(s3, bucket)
    for file in files:
        s3.put_object(
            Bucket=bucket, Key=file.key, Body=file.body, ContentType=file.content_type,
            CacheControl=file.cache_control,
        )  # fmt: skip
        report.uploaded.append(file.key)
        report.uploaded_bytes += len(file.body)
        if on_upload is not None:
            on_upload(file)
    keep = {file.key for file in files} | {CONFIG_KEY}
    stale = sorted(before - keep)
    for start in range(0, len(stale), 1000):  # DeleteObjects takes at most 1000 keys
        batch = stale[start : start + 1000]
        result = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        if result.get("Errors"):
            first = result["Errors"][0]
            raise PublishError(f"Deleting old files from {bucket} failed: {first['Key']}: {first['Message']}")
        report.deleted.extend(batch)
    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution.id,
        InvalidationBatch={
            "Paths": {"Quantity": len(INVALIDATED_PATHS), "Items": list(INVALIDATED_PATHS)},
            "CallerReference": f"trade2026-publish-ui-{uuid.uuid4()}",
        },
    )
    report.invalidation_id = invalidation["Invalidation"]["Id"]
    return report


# ---------------------------------------------------------------------------------------------- the command
def run(
    session: Any, stack_name: str, frontend: Path, console: Console, environ: Mapping[str, str] | None = None
) -> PublishReport:
    """Everything `trade2026 publish-ui` does, with progress on ``console``; ``session`` is a boto3 Session."""
    overrides = local_endpoint_variables(environ)
    if overrides:
        raise PublishError(f"{', '.join(overrides)} is set: unset it to publish the UI to AWS")
    with console.status(f"Reading stack {stack_name} ..."):
        stack = read_stack(session.client("cloudformation"), stack_name)
        bucket = stack.outputs["UiBucketName"]
        distribution = find_distribution(session.client("cloudfront"), bucket, stack.region)
    console.print(
        f"Stack [bold]{stack.name}[/] ({stack.region}): bucket {bucket}, distribution {distribution.id}"
    )
    if dist_is_stale(frontend):
        console.print(f"{frontend / 'dist'} is missing or older than its sources: [bold]npm run build[/]")
        build_frontend(frontend)
    files = plan_files(frontend / "dist", public_config(stack))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[key]}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Uploading", total=sum(len(f.body) for f in files), key="")

        def advance(file: UiFile) -> None:
            progress.update(task, advance=len(file.body), key=file.key)

        report = publish(
            session.client("s3"), session.client("cloudfront"), bucket, distribution, files, advance
        )
    console.print(
        f"Uploaded {len(report.uploaded)} files ({report.uploaded_bytes / 1024:,.0f} KiB), deleted "
        f"{len(report.deleted)} old ones; invalidation {report.invalidation_id} of {', '.join(INVALIDATED_PATHS)}"
    )
    warning = origin_warning(stack, report.url)
    if warning:
        console.print(f"[yellow]{warning}[/]")
    console.print(f"[bold green]Web UI[/] {report.url}")
    return report
