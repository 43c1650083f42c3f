"""The lake bucket's lifecycle rules, written as CloudFormation writes them, are accepted by the S3 API."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws

from localcloud.provision import s3_lifecycle_rule
from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]


def test_the_lake_lifecycle_rules_reach_s3_in_its_shape():
    # Given the lake bucket's rules from template.yaml
    rules = load_template(ROOT / "template.yaml")["Resources"]["LakeBucket"]["Properties"][
        "LifecycleConfiguration"
    ]
    # When they are put on a bucket through the S3 API
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        s3.put_bucket_lifecycle_configuration(
            Bucket="lake", LifecycleConfiguration={"Rules": [s3_lifecycle_rule(r) for r in rules["Rules"]]}
        )
        stored = s3.get_bucket_lifecycle_configuration(Bucket="lake")["Rules"]
    # Then S3 keeps the multipart clean-up, the old-version expiry and the market data tiering
    by_id = {rule.get("ID", ""): rule for rule in stored}
    tiering = by_id["market-data-to-intelligent-tiering"]
    assert tiering["Filter"] == {"Prefix": "marketdata/"}
    assert tiering["Transitions"] == [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}]
    assert any(r.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": 7} for r in stored)
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == 90 for r in stored)
