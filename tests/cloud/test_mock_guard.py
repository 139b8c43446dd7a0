"""The moto guard: a call moto cannot answer fails the test with a clear message."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import MockGap, guarded_mock_aws


def test_a_call_moto_does_not_implement_fails_with_a_clear_message(aws_env: None) -> None:
    import boto3

    with pytest.raises(pytest.fail.Exception) as failed, guarded_mock_aws():
        client = boto3.client("braket", region_name="us-east-1")
        with pytest.raises(MockGap, match=r"moto \S+ does not implement braket SearchDevices"):
            client.search_devices(filters=[])
    assert "botocore" in str(failed.value) and "constraints.txt" in str(failed.value)


def test_implemented_calls_and_real_404s_pass_through(aws_env: None) -> None:
    import boto3
    from botocore.exceptions import ClientError

    with guarded_mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="guard-test")
        with pytest.raises(ClientError, match="NoSuchKey"):
            s3.get_object(Bucket="guard-test", Key="missing")
