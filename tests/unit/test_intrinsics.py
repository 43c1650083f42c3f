import pytest

from localcloud.intrinsics import IntrinsicError, Resolver, references


@pytest.fixture
def resolver():
    return Resolver(
        "stack",
        {"Stage": "prod"},
        refs={"Bucket": "my-bucket", "Queue": "https://q/url"},
        attrs={"Bucket": {"Arn": "arn:aws:s3:::my-bucket"}, "Queue": {"QueueName": "q"}},
        mappings={"Limits": {"prod": {"Max": 10}}},
        conditions={"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    )


def test_sub_resolves_refs_attributes_pseudo_parameters_and_escapes(resolver):
    # Given a Sub with every kind of variable, When resolved, Then each is replaced and ${! stays literal
    value = {"Fn::Sub": "${Bucket}|${Bucket.Arn}|${AWS::Region}|${Stage}|${!Literal}"}
    assert resolver.resolve(value) == "my-bucket|arn:aws:s3:::my-bucket|us-east-1|prod|${Literal}"


def test_if_novalue_join_select_split_findinmap(resolver):
    value = {
        "A": {"Fn::If": ["IsProd", "big", "small"]},
        "B": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "x"]},
        "C": {"Fn::Join": [",", ["a", {"Ref": "Bucket"}]]},
        "D": {"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]},
        "E": {"Fn::FindInMap": ["Limits", {"Ref": "Stage"}, "Max"]},
    }
    assert resolver.resolve(value) == {"A": "big", "C": "a,my-bucket", "D": "b", "E": 10}


def test_unknown_reference_is_a_clear_error(resolver):
    with pytest.raises(IntrinsicError, match="Nope"):
        resolver.resolve({"Ref": "Nope"})


def test_references_finds_every_dependency():
    value = {
        "X": [{"Ref": "A"}, {"Fn::GetAtt": ["B", "Arn"]}, {"Fn::Sub": ["${C.Arn}-${v}", {"v": {"Ref": "D"}}]}]
    }
    assert references(value) == {"A", "B", "C", "D"}
