"""`trade2026 publish-ui` against AWS emulated in-process by moto (S3, CloudFront, CloudFormation): never AWS."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rich.console import Console
from typer.testing import CliRunner

from localcloud import publish_ui
from localcloud.cli import app
from localcloud.publish_ui import (
    IMMUTABLE,
    INVALIDATED_PATHS,
    REVALIDATE,
    Distribution,
    PublishError,
    StackInfo,
)

REGION = "us-east-1"
BUCKET = "trade2026-dev-ui-123456789012"
STACK = "trade2026-dev"
OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/v",
    "UserPoolId": "us-east-1_Demo1234",
    "UserPoolClientId": "4demo5client6id",
}
DIST_FILES = {
    "index.html": b'<!doctype html><script type="module" src="/assets/index-CvvEIQtc.js"></script>',
    "assets/index-CvvEIQtc.js": b"console.log('app')",
    "assets/AnalyticsPage-naCM_21-.js": b"export const page = 1",
    "assets/index-CNUAp2yk.css": b"body{color:#eee}",
    "favicon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "robots.txt": b"User-agent: *\n",
}


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "frontend" / "dist"
    for key, body in DIST_FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    return root


def _distribution(session: boto3.Session, bucket: str) -> Distribution:
    """A distribution whose origin is ``bucket`` (what template.yaml's UiDistribution is)."""
    config = {
        "CallerReference": f"test-{bucket}",
        "Comment": "web UI",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "ui-bucket",
                    "DomainName": f"{bucket}.s3.{REGION}.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {"TargetOriginId": "ui-bucket", "ViewerProtocolPolicy": "redirect-to-https"},
    }
    created = session.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]
    return Distribution(created["Id"], created["DomainName"])


def _stack(session: boto3.Session, ui_origin: str = "http://localhost:5173", with_ui: bool = True) -> None:
    """A deployed stack with the outputs and parameters of template.yaml (the UI bucket is its resource)."""
    template: dict[str, Any] = {
        "Parameters": {"Stage": {"Type": "String"}, "UiOrigin": {"Type": "String"}},
        "Resources": {"UiBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}}},
        "Outputs": {name: {"Value": value} for name, value in OUTPUTS.items()},
    }
    if with_ui:
        template["Outputs"]["UiBucketName"] = {"Value": {"Ref": "UiBucket"}}
    session.client("cloudformation").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": "dev"},
            {"ParameterKey": "UiOrigin", "ParameterValue": ui_origin},
        ],
    )


def _stack_info() -> StackInfo:
    return StackInfo(STACK, REGION, {**OUTPUTS, "UiBucketName": BUCKET}, {"Stage": "dev"})


def _publish(session: boto3.Session, dist: Path, distribution: Distribution) -> publish_ui.PublishReport:
    files = publish_ui.plan_files(dist, publish_ui.public_config(_stack_info()))
    return publish_ui.publish(session.client("s3"), session.client("cloudfront"), BUCKET, distribution, files)


def _bucket_with_distribution(session: boto3.Session) -> Distribution:
    session.client("s3").create_bucket(Bucket=BUCKET)
    return _distribution(session, BUCKET)


def test_every_file_gets_its_content_type_and_hashed_bundles_are_cached_for_a_year(aws, dist):
    # Given the built UI and the stack's bucket behind its distribution
    distribution = _bucket_with_distribution(aws)
    # When it is published
    report = _publish(aws, dist, distribution)
    # Then each file is there with its type; the content-hashed bundles are immutable for a year, the entry page,
    # the settings and unhashed files revalidate on every load
    s3 = aws.client("s3")
    expected = {
        "index.html": ("text/html; charset=utf-8", REVALIDATE),
        "config.json": ("application/json", REVALIDATE),
        "assets/index-CvvEIQtc.js": ("text/javascript; charset=utf-8", IMMUTABLE),
        "assets/AnalyticsPage-naCM_21-.js": ("text/javascript; charset=utf-8", IMMUTABLE),
        "assets/index-CNUAp2yk.css": ("text/css; charset=utf-8", IMMUTABLE),
        "favicon.svg": ("image/svg+xml", REVALIDATE),
        "robots.txt": ("text/plain; charset=utf-8", REVALIDATE),
    }
    for key, (content_type, cache_control) in expected.items():
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
    assert IMMUTABLE == "public, max-age=31536000, immutable"
    assert (
        s3.get_object(Bucket=BUCKET, Key="assets/index-CvvEIQtc.js")["Body"].read() == b"console.log('app')"
    )
    # And the entry page goes up last, after everything it loads
    assert sorted(report.uploaded) == sorted([*DIST_FILES, "config.json"])
    assert report.uploaded[-1] == "index.html"
    assert report.uploaded.index("config.json") > report.uploaded.index("assets/index-CvvEIQtc.js")
    assert report.uploaded_bytes == sum(map(len, DIST_FILES.values())) + len(
        s3.get_object(Bucket=BUCKET, Key="config.json")["Body"].read()
    )


def test_config_json_carries_the_stack_outputs_the_ui_needs(aws, dist):
    # Given a deployed stack (outputs, Stage parameter) and a config.json placeholder in the build
    _stack(aws)
    (dist / "config.json").write_text('{"apiUrl": "http://127.0.0.1:8080", "local": true}')
    stack = publish_ui.read_stack(aws.client("cloudformation"), STACK)
    distribution = _distribution(aws, BUCKET)
    # When the UI is published with the settings derived from it
    publish_ui.publish(
        aws.client("s3"), aws.client("cloudfront"), BUCKET, distribution,
        publish_ui.plan_files(dist, publish_ui.public_config(stack)),
    )  # fmt: skip
    # Then /config.json holds the API URL, region, user pool and client, and stage: the fields the UI
    # requires (frontend/src/config.ts), never the local cloud's
    body = json.loads(aws.client("s3").get_object(Bucket=BUCKET, Key="config.json")["Body"].read())
    assert body == {
        "apiUrl": OUTPUTS["ApiUrl"],
        "region": REGION,
        "userPoolId": OUTPUTS["UserPoolId"],
        "userPoolClientId": OUTPUTS["UserPoolClientId"],
        "cognitoEndpoint": None,
        "stage": "dev",
        "local": False,
    }
    assert stack.outputs["UiBucketName"] == BUCKET


def test_files_no_longer_built_are_deleted_but_config_json_is_kept(aws, dist):
    # Given a bucket holding an earlier build's bundles (one nested) next to the current ones
    distribution = _bucket_with_distribution(aws)
    s3 = aws.client("s3")
    old = ["assets/index-OLDhash1.js", "assets/fonts/inter-OLDhash2.woff2", "old-page.html"]
    for key in [*old, "index.html"]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
    # When the new build is published
    report = _publish(aws, dist, distribution)
    # Then exactly the files of the old build are gone; the new build and config.json remain
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {*DIST_FILES, "config.json"}
    assert sorted(report.deleted) == sorted(old)
    assert s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read() == DIST_FILES["index.html"]


def test_config_json_is_never_deleted_even_when_a_publish_skips_it(aws, dist):
    # Given a bucket with the stack's config.json, and a publish of the build alone (no settings file)
    distribution = _bucket_with_distribution(aws)
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="config.json", Body=b'{"apiUrl": "kept"}')
    files = [f for f in publish_ui.plan_files(dist, {}) if f.key != "config.json"]
    # When published
    report = publish_ui.publish(s3, aws.client("cloudfront"), BUCKET, distribution, files)
    # Then config.json is still there, untouched
    assert "config.json" not in report.deleted
    assert s3.get_object(Bucket=BUCKET, Key="config.json")["Body"].read() == b'{"apiUrl": "kept"}'


def test_the_entry_page_and_settings_are_invalidated_at_the_edge(aws, dist):
    # Given the bucket behind its distribution
    distribution = _bucket_with_distribution(aws)
    # When the UI is published
    report = _publish(aws, dist, distribution)
    # Then one invalidation of /, /index.html and /config.json was created on that distribution
    cloudfront = aws.client("cloudfront")
    (summary,) = cloudfront.list_invalidations(DistributionId=distribution.id)["InvalidationList"]["Items"]
    assert summary["Id"] == report.invalidation_id
    batch = cloudfront.get_invalidation(DistributionId=distribution.id, Id=report.invalidation_id)[
        "Invalidation"
    ]["InvalidationBatch"]
    assert (
        sorted(batch["Paths"]["Items"]) == sorted(INVALIDATED_PATHS) == ["/", "/config.json", "/index.html"]
    )
    assert report.url == f"https://{distribution.domain_name}"


def test_the_distribution_is_the_one_in_front_of_the_ui_bucket(aws):
    # Given two distributions, one in front of another bucket
    _distribution(aws, "someone-elses-bucket")
    mine = _distribution(aws, BUCKET)
    # When the UI's is looked up, Then it is the one whose origin is the UI bucket
    assert publish_ui.find_distribution(aws.client("cloudfront"), BUCKET, REGION) == mine
    # And a bucket without a distribution is a clear error
    with pytest.raises(PublishError, match="found none"):
        publish_ui.find_distribution(aws.client("cloudfront"), "no-such-ui-bucket", REGION)


def test_a_stack_without_the_ui_outputs_or_no_stack_at_all_is_refused(aws):
    # Given a stack deployed before the web UI section, When it is read, Then the error names the missing output
    _stack(aws, with_ui=False)
    with pytest.raises(PublishError, match="no output UiBucketName"):
        publish_ui.read_stack(aws.client("cloudformation"), STACK)
    # And a stack that does not exist says to deploy first
    with pytest.raises(PublishError, match="deploy it first"):
        publish_ui.read_stack(aws.client("cloudformation"), "trade2026-prod")


def test_a_build_without_index_html_is_refused(tmp_path):
    # Given a dist directory with no entry page, When planned, Then the error says to build first
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-CvvEIQtc.js").write_text("x")
    with pytest.raises(PublishError, match=r"no index\.html"):
        publish_ui.plan_files(tmp_path, {})


def test_dist_is_stale_when_missing_or_older_than_a_source(tmp_path):
    # Given a frontend without a build, Then it is stale
    frontend = tmp_path / "frontend"
    (frontend / "src").mkdir(parents=True)
    source = frontend / "src" / "main.tsx"
    source.write_text("x")
    assert publish_ui.dist_is_stale(frontend)
    # When a build newer than every source exists, Then it is fresh
    (frontend / "dist").mkdir()
    index = frontend / "dist" / "index.html"
    index.write_text("<!doctype html>")
    os.utime(source, (1_000_000, 1_000_000))
    os.utime(index, (2_000_000, 2_000_000))
    assert not publish_ui.dist_is_stale(frontend)
    # When a source (or the OpenAPI document the client is generated from) changes later, Then it is stale
    os.utime(source, (3_000_000, 3_000_000))
    assert publish_ui.dist_is_stale(frontend)
    os.utime(source, (1_000_000, 1_000_000))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "openapi.json").write_text("{}")
    assert publish_ui.dist_is_stale(frontend)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_build_runs_npm_run_build_and_reports_its_failure(tmp_path):
    # Given a frontend whose build script writes dist/index.html
    frontend = tmp_path / "frontend"
    (frontend / "node_modules").mkdir(parents=True)
    script = (
        "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.html','ok')"
    )
    (frontend / "package.json").write_text(
        json.dumps({"name": "t", "scripts": {"build": f'node -e "{script}"'}})
    )
    # When built, Then dist/index.html exists
    publish_ui.build_frontend(frontend)
    assert (frontend / "dist" / "index.html").read_text() == "ok"
    # Given a build that fails, When built, Then the error carries its exit status
    (frontend / "package.json").write_text(json.dumps({"name": "t", "scripts": {"build": "exit 3"}}))
    with pytest.raises(PublishError, match="exit 3"):
        publish_ui.build_frontend(frontend)
    # And without node_modules the error says how to install them
    shutil.rmtree(frontend / "node_modules")
    with pytest.raises(PublishError, match="npm ci"):
        publish_ui.build_frontend(frontend)


def test_publish_ui_end_to_end_from_the_stack_and_warns_when_cors_allows_another_origin(aws, dist):
    # Given a deployed stack whose UiOrigin is still the local default, its bucket and distribution, a fresh build
    _stack(aws, ui_origin="http://localhost:5173")
    distribution = _distribution(aws, BUCKET)
    out = io.StringIO()
    # When the command's logic runs
    report = publish_ui.run(aws, STACK, dist.parent, Console(file=out, width=300), environ={})
    # Then the UI and its settings are in the bucket, the edge is invalidated, and the URL is printed
    text = out.getvalue()
    assert report.url == distribution.url and distribution.url in text
    assert {*DIST_FILES, "config.json"} <= set(report.uploaded) and report.invalidation_id
    # And the user is told the API's CORS would refuse the UI's origin, with the exact parameter to set
    assert f"UiOrigin={distribution.url}" in text.replace("\n", "")
    # When UiOrigin is the UI's URL, Then no warning
    stack = publish_ui.StackInfo(STACK, REGION, {}, {"Stage": "dev", "UiOrigin": distribution.url})
    assert publish_ui.origin_warning(stack, distribution.url) is None


def test_publishing_refuses_to_run_against_a_local_endpoint(aws, dist, monkeypatch):
    # Given AWS_ENDPOINT_URL set (the SDK would talk to the local cloud)
    _stack(aws)
    # When the logic runs, Then it refuses before any call
    with pytest.raises(PublishError, match="AWS_ENDPOINT_URL is set"):
        publish_ui.run(aws, STACK, dist.parent, Console(file=io.StringIO()),
                       environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})  # fmt: skip
    # And the command exits 2 with the reason
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
    result = CliRunner().invoke(app, ["publish-ui", "--stage", "dev"])
    assert result.exit_code == 2 and "AWS_ENDPOINT_URL_S3 is set" in result.output
    # And nothing was uploaded
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def _fake_sam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int) -> Path:
    """A `sam` on PATH that records its arguments and exits with ``status``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "sam-calls.txt"
    sam = bin_dir / "sam"
    sam.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit {status}\n')
    sam.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_deploy_tolerates_an_unchanged_stack_and_skips_the_ui_when_told(aws, tmp_path, monkeypatch):
    # Given a sam that deploys successfully, When `deploy --no-ui` runs
    calls = _fake_sam(tmp_path, monkeypatch, 0)
    result = CliRunner().invoke(app, ["deploy", "--stage", "staging", "--no-ui"])
    # Then sam deployed the stage's config, an unchanged stack being no failure, and nothing else ran
    assert result.exit_code == 0, result.output
    assert calls.read_text().split() == ["deploy", "--config-env", "staging", "--no-fail-on-empty-changeset"]
    assert "Web UI" not in result.output


def test_a_failed_sam_deploy_publishes_nothing(aws, tmp_path, monkeypatch):
    # Given a sam deploy that fails and a stack that could be published to
    _fake_sam(tmp_path, monkeypatch, 1)
    _stack(aws)
    _distribution(aws, BUCKET)
    # When `deploy` runs (the UI on by default), Then it exits with sam's status and the bucket stays empty
    result = CliRunner().invoke(app, ["deploy", "--stage", "dev"])
    assert result.exit_code == 1
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
