"""The web UI's part of template.yaml: a private bucket read only by its CloudFront distribution.

cfn-lint and the SAM translation of the whole template are tests/unit/test_template.py; these check what hosting
the UI on AWS promises (issue 10), on the template and on its translation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from localcloud.template import load_template, translate

ROOT = Path(__file__).resolve().parents[2]
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policies and response headers
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def resources(sam: dict[str, Any]) -> dict[str, Any]:
    return sam["Resources"]


@pytest.fixture(scope="module")
def distribution(resources: dict[str, Any]) -> dict[str, Any]:
    assert resources["UiDistribution"]["Type"] == "AWS::CloudFront::Distribution"
    return resources["UiDistribution"]["Properties"]["DistributionConfig"]


def test_the_ui_bucket_is_private_encrypted_versioned_and_retained(resources: dict[str, Any]):
    # Given the UI bucket
    bucket = resources["UiBucket"]
    props = bucket["Properties"]
    # Then no ACL or policy can make it public, objects are encrypted and owned by the account, versions kept
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "WebsiteConfiguration" not in props  # served through CloudFront only, never as an S3 website
    # And, like the other buckets, it survives a stack deletion
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_only_this_distribution_may_read_the_bucket_and_only_over_tls(resources: dict[str, Any]):
    # Given the UI bucket's policy
    policy = resources["UiBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "UiBucket"}
    allow, deny = policy["PolicyDocument"]["Statement"]
    # Then the one grant is GetObject on the bucket's objects to the CloudFront service, for this distribution
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${UiBucket.Arn}/*"}
    assert allow["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${UiDistribution}"
            }
        }
    }
    # And every request without TLS is denied, on the bucket and its objects
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [{"Fn::GetAtt": ["UiBucket", "Arn"]}, {"Fn::Sub": "${UiBucket.Arn}/*"}]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cloudfront_reaches_the_bucket_through_origin_access_control(
    resources: dict[str, Any], distribution: dict[str, Any]
):
    # Given the origin access control and the distribution's one origin
    oac = resources["UiOriginAccessControl"]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    config = oac["Properties"]["OriginAccessControlConfig"]
    (origin,) = distribution["Origins"]
    # Then CloudFront signs every request to the bucket (SigV4, S3), and the origin uses it (no legacy identity)
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3", "always", "sigv4",
    )  # fmt: skip
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["UiOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origin["DomainName"] == {"Fn::GetAtt": ["UiBucket", "RegionalDomainName"]}


def test_the_distribution_serves_the_single_page_app_over_https(distribution: dict[str, Any]):
    # Given the distribution, Then it serves index.html at the root, over HTTP/2 and 3, from the cheapest edges
    assert distribution["Enabled"] is True
    assert distribution["DefaultRootObject"] == "index.html"
    assert (distribution["HttpVersion"], distribution["PriceClass"]) == ("http2and3", "PriceClass_100")
    # And a client-side route (no such object: S3 answers 403 to CloudFront, 404 if it could list) loads the app
    errors = {e["ErrorCode"]: e for e in distribution["CustomErrorResponses"]}
    assert set(errors) == {403, 404}
    for code, error in errors.items():
        assert (error["ResponseCode"], error["ResponsePagePath"], error["ErrorCachingMinTTL"]) == (
            200, "/index.html", 0,
        ), code  # fmt: skip


def test_bundles_are_cached_and_the_entry_page_and_settings_are_not(distribution: dict[str, Any]):
    # Given every cache behavior of the distribution
    default = distribution["DefaultCacheBehavior"]
    by_path = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    # Then hashed bundles (the default) use the managed CachingOptimized policy, while /index.html and
    # /config.json are never cached at the edge
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert set(by_path) == {"/index.html", "/config.json"}
    assert {b["CachePolicyId"] for b in by_path.values()} == {CACHING_DISABLED}
    # And each is read-only, HTTPS only (HTTP redirects), compressed, with the security headers policy
    for behavior in [default, *by_path.values()]:
        assert behavior["TargetOriginId"] == distribution["Origins"][0]["Id"]
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
        assert behavior["Compress"] is True
        assert behavior["ResponseHeadersPolicyId"] == SECURITY_HEADERS


def test_the_health_check_may_only_list_the_ui_bucket(resources: dict[str, Any]):
    # Given the platform function's extra policy for the UI bucket, Then it is s3:ListBucket (head_bucket) on it
    policy = resources["PlatformUiBucketPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "PlatformFunctionRole"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow", "s3:ListBucket", {"Fn::GetAtt": ["UiBucket", "Arn"]},
    )  # fmt: skip


def test_the_stack_outputs_the_ui_bucket_and_sam_keeps_the_ui_resources(sam: dict[str, Any]):
    # Given the outputs, Then publish-ui finds the bucket there
    assert sam["Outputs"]["UiBucketName"]["Value"] == {"Ref": "UiBucket"}
    # And the translation `sam deploy` does keeps every UI resource as written
    cfn = translate(sam, {"Stage": "prod"})
    for logical_id in ("UiBucket", "UiBucketPolicy", "UiOriginAccessControl", "UiDistribution"):
        assert cfn["Resources"][logical_id] == sam["Resources"][logical_id], logical_id
