"""deepracer.cloud.aws: clients, the call wrapper and the botocore-error translation.

Every error kind is built from botocore's own exception classes (or answered by a
Stubber), so nothing here reaches the network.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import pytest
from botocore import exceptions as bx

from deepracer.cloud import aws
from deepracer.cloud.aws import ErrorKind
from deepracer.errors import ConfigError, DeepRacerError

from .conftest import REGION


def client_error(
    code: str, message: str = "the service says no", status: int = 400, operation: str = "Op"
) -> bx.ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return bx.ClientError(response, operation)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ imports


def test_importing_the_layer_imports_no_aws_package() -> None:
    code = (
        "import sys, deepracer, deepracer.cloud.aws\n"
        "bad = [n for n in ('boto3', 'botocore') if n in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ------------------------------------------------------------------------ kinds


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (bx.NoCredentialsError(), ErrorKind.NO_CREDENTIALS),
        (bx.PartialCredentialsError(provider="env", cred_var="SECRET"), ErrorKind.NO_CREDENTIALS),
        (bx.CredentialRetrievalError(provider="sso", error_msg="x"), ErrorKind.NO_CREDENTIALS),
        (bx.TokenRetrievalError(provider="sso", error_msg="x"), ErrorKind.NO_CREDENTIALS),
        (bx.SSOTokenLoadError(error_msg="expired"), ErrorKind.NO_CREDENTIALS),
        (bx.NoRegionError(), ErrorKind.NO_REGION),
        (bx.EndpointConnectionError(endpoint_url="http://x:1"), ErrorKind.UNREACHABLE),
        (bx.ConnectTimeoutError(endpoint_url="http://x:1"), ErrorKind.UNREACHABLE),
        (bx.ReadTimeoutError(endpoint_url="http://x:1"), ErrorKind.UNREACHABLE),
        (bx.ConnectionClosedError(endpoint_url="http://x:1"), ErrorKind.UNREACHABLE),
        (bx.ParamValidationError(report="Missing Bucket"), ErrorKind.BAD_PARAMETERS),
        (bx.ProfileNotFound(profile="p"), ErrorKind.OTHER),
        (bx.WaiterError(name="w", reason="r", last_response={}), ErrorKind.OTHER),
        (client_error("ExpiredToken"), ErrorKind.REJECTED_CREDENTIALS),
        (client_error("UnrecognizedClientException"), ErrorKind.REJECTED_CREDENTIALS),
        (client_error("InvalidAccessKeyId", status=403), ErrorKind.REJECTED_CREDENTIALS),
        (client_error("AccessDeniedException"), ErrorKind.ACCESS_DENIED),
        (client_error("Weird", status=403), ErrorKind.ACCESS_DENIED),
        (client_error("ResourceNotFoundException"), ErrorKind.NOT_FOUND),
        (client_error("NoSuchKey", status=404), ErrorKind.NOT_FOUND),
        (client_error("Weird", status=404), ErrorKind.NOT_FOUND),
        (client_error("ValidationException"), ErrorKind.REFUSED),
        (client_error("ResourceInUse"), ErrorKind.REFUSED),
        (client_error("ResourceLimitExceeded"), ErrorKind.QUOTA),
        (client_error("ThrottlingException"), ErrorKind.THROTTLED),
        (client_error("SlowDown", status=503), ErrorKind.THROTTLED),
        (client_error("Weird", status=429), ErrorKind.THROTTLED),
        (client_error("InternalError", status=500), ErrorKind.FAILED),
    ],
)
def test_error_kinds(exc: Exception, kind: ErrorKind) -> None:
    assert aws.error_kind(exc) is kind
    assert kind.answered == isinstance(exc, bx.ClientError)


def test_errors_that_are_not_aws_errors_have_no_kind() -> None:
    assert aws.error_kind(KeyError("x")) is None
    # botocore's Stubber reports a test's mistake: it must not read as an AWS error.
    wrong = bx.StubAssertionError(operation_name="GetObject", reason="wrong parameters")
    assert aws.error_kind(wrong) is None
    unexpected = bx.UnStubbedResponseError(operation_name="GetObject", reason="unexpected call")
    assert aws.error_kind(unexpected) is None


def test_the_parts_of_an_error() -> None:
    exc = client_error("NoSuchKey", "The key does not exist", 404, "GetObject")
    assert aws.error_code(exc) == "NoSuchKey"
    assert aws.error_message(exc) == "The key does not exist"
    assert aws.http_status(exc) == 404
    bare = bx.ClientError({"Error": {"Code": "Teapot"}}, "Brew")  # type: ignore[typeddict-item]
    assert aws.error_message(bare) == str(bare)
    assert aws.error_message(bare, default="Teapot") == "Teapot"
    assert aws.http_status(bare) is None
    assert (aws.error_code(KeyError()), aws.http_status(KeyError())) == ("", None)
    assert aws.endpoint_of(bx.EndpointConnectionError(endpoint_url="http://x:1")) == "http://x:1"
    assert aws.endpoint_of(bx.ConnectionError(error="refused"), "S3") == "S3"


# ------------------------------------------------------------------------ translation


HINT = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (bx.NoCredentialsError(), ["polly.describe_voices (chunk 1): no AWS credentials", HINT]),
        (bx.NoRegionError(), ["polly.describe_voices (chunk 1): no AWS region", "AWS_REGION"]),
        (
            bx.EndpointConnectionError(endpoint_url="http://x:1"),
            ["cannot reach http://x:1", "check the network, the region and the endpoint URL"],
        ),
        (
            client_error("ExpiredTokenException", operation="DescribeVoices"),
            [
                "DescribeVoices (chunk 1): AWS rejected the credentials (ExpiredTokenException:"
                " the service says no)",
                "aws sso login",
            ],
        ),
        (
            client_error("AccessDeniedException", operation="DescribeVoices"),
            [
                "DescribeVoices (chunk 1): access denied (AccessDeniedException: the service",
                "needs permission for DescribeVoices",
            ],
        ),
        (
            client_error("ResourceNotFoundException", "No such voice", operation="DescribeVoices"),
            ["DescribeVoices (chunk 1): No such voice (ResourceNotFoundException)"],
        ),
        (
            client_error("ValidationException", "Bad SSML", operation="DescribeVoices"),
            ["DescribeVoices (chunk 1): Bad SSML (ValidationException)"],
        ),
        (
            client_error("ServiceQuotaExceededException", operation="DescribeVoices"),
            ["(ServiceQuotaExceededException); an account quota is used up", "Service Quotas"],
        ),
        (
            client_error("ThrottlingException", "Rate exceeded", operation="DescribeVoices"),
            [
                "DescribeVoices (chunk 1) failed (ThrottlingException): Rate exceeded",
                "wait a minute and try again",
            ],
        ),
        (
            client_error("InternalFailure", "oops", 500, operation="DescribeVoices"),
            ["DescribeVoices (chunk 1) failed (InternalFailure): oops"],
        ),
        (
            bx.WaiterError(name="w", reason="too long", last_response={}),
            ["polly.describe_voices (chunk 1): Waiter w failed: too long"],
        ),
    ],
)
def test_each_kind_reads_with_the_operation_the_subject_and_the_advice(
    exc: Exception, words: list[str]
) -> None:
    error = aws.translate(exc, "polly.describe_voices", subject="chunk 1")
    assert type(error) is DeepRacerError
    for word in words:
        assert word in str(error)


def test_refused_parameters_are_a_config_error() -> None:
    error = aws.translate(bx.ParamValidationError(report="Missing Bucket"), "s3.get_object")
    assert isinstance(error, ConfigError)
    assert str(error) == "s3.get_object: Parameter validation failed:\nMissing Bucket"


def test_other_exceptions_are_not_translated() -> None:
    assert aws.translate(KeyError("x"), "op") is None


def test_callers_word_their_own_kinds_and_add_a_note() -> None:
    messages = dataclasses.replace(
        aws.DEFAULT_MESSAGES,
        failed="{operation}{about}: {code}: {message}",
        note="Note: the service is closed to new customers.",
    )
    error = aws.translate(client_error("Oops", "it broke."), "rekognition.x", messages=messages)
    assert str(error) == (
        "rekognition.x: Oops: it broke. Note: the service is closed to new customers."
    )
    error = aws.translate(client_error("Oops", "it broke"), "rekognition.x", messages=messages)
    assert str(error).startswith("rekognition.x: Oops: it broke. Note:")


def test_aws_errors_translates_and_keeps_the_cause() -> None:
    cause = client_error("AccessDenied")
    with (
        pytest.raises(DeepRacerError, match="access denied") as info,
        aws.aws_errors("s3.put_object", subject="s3://b/k"),
    ):
        raise cause
    assert info.value.__cause__ is cause


def test_aws_errors_lets_our_errors_and_foreign_ones_through() -> None:
    ours = ConfigError("already clear")
    with pytest.raises(ConfigError) as info, aws.aws_errors("op"):
        raise ours
    assert info.value is ours
    with pytest.raises(KeyError), aws.aws_errors("op"):
        raise KeyError("a bug, not AWS")


# ------------------------------------------------------------------------ call


@pytest.fixture
def polly(aws_env: None) -> Any:
    import boto3

    return boto3.session.Session().client("polly", region_name=REGION)


def test_call_names_a_client_method_by_service_and_method(polly: Any) -> None:
    from botocore.stub import Stubber

    with Stubber(polly) as stub:
        stub.add_response("describe_voices", {"Voices": []}, {"LanguageCode": "en-US"})
        assert aws.call(polly.describe_voices, LanguageCode="en-US") == {"Voices": []}
        stub.add_client_error("describe_voices", "AccessDeniedException", "not allowed")
        with pytest.raises(DeepRacerError) as info:
            aws.call(polly.describe_voices, subject="voice Joanna", LanguageCode="en-US")
        stub.assert_no_pending_responses()
    assert str(info.value) == (
        "DescribeVoices (voice Joanna): access denied (AccessDeniedException: not allowed);"
        " the AWS identity needs permission for DescribeVoices"
    )


def test_call_names_other_errors_by_service_and_method(no_credentials: None) -> None:
    # botocore signs before it sends: without credentials nothing leaves the machine.
    sm = aws.client("sagemaker", region=REGION, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(
        DeepRacerError, match=r"^sagemaker\.describe_training_job: no AWS credentials"
    ):
        aws.call(sm.describe_training_job, TrainingJobName="job-1")

    def unreachable(**params: Any) -> None:
        raise bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    with pytest.raises(DeepRacerError, match=r"^unreachable: cannot reach http://127\.0\.0\.1:9"):
        aws.call(unreachable, Name="x")


# ------------------------------------------------------------------------ clients


def test_client_has_standard_retries_and_drops_unknown_options(aws_env: None) -> None:
    made = aws.client("logs", region="eu-west-1", options={"connect_timeout": 7, "bogus": 1})
    assert made.meta.region_name == "eu-west-1"
    assert made.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert made.meta.config.connect_timeout == 7


def test_client_reads_aws_region_unless_told_not_to(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws.client("logs").meta.region_name == "eu-west-1"
    assert aws.client("logs", env_region=False).meta.region_name == REGION


def test_client_setup_errors(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DeepRacerError, match=r"no 'no-such-service' client"):
        aws.client("no-such-service", region=REGION)
    with pytest.raises(DeepRacerError, match=r"invalid endpoint URL 'not a url' for s3"):
        aws.client("s3", region=REGION, endpoint_url="not a url")
    monkeypatch.setenv("AWS_PROFILE", "missing-profile")
    with pytest.raises(DeepRacerError, match=r"AWS profile not found: .*missing-profile"):
        aws.client("logs", region=REGION)
    monkeypatch.delenv("AWS_PROFILE")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    with pytest.raises(DeepRacerError, match=r"^no AWS region for logs: set AWS_REGION"):
        aws.client("logs")


def test_client_without_boto3_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(DeepRacerError) as info:
        aws.client("polly", region=REGION)
    assert str(info.value) == "the AWS polly client needs boto3: pip install 'deepracer[aws]'"


def test_client_words_and_raises_as_the_caller_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    class StoreError(DeepRacerError):
        pass

    monkeypatch.setitem(sys.modules, "boto3", None)
    messages = aws.ClientMessages(boto3="s3:// storage needs boto3")
    with pytest.raises(StoreError, match=r"^s3:// storage needs boto3$"):
        aws.client("s3", messages=messages, error=StoreError)


# ------------------------------------------------------------------------ waiters


class _Waiter:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def wait(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error


class _Client:
    def __init__(self, waiter: _Waiter) -> None:
        self.waiter = waiter
        self.names: list[str] = []

    def get_waiter(self, name: str) -> _Waiter:
        self.names.append(name)
        return self.waiter


def test_wait_polls_within_the_time_limit() -> None:
    waiter = _Waiter(None)
    client = _Client(waiter)
    aws.wait(
        client,
        "endpoint_in_service",
        delay_s=30,
        timeout_s=95,
        failure=lambda last, error: "unused",
        EndpointName="e",
    )
    assert client.names == ["endpoint_in_service"]
    assert waiter.calls == [{"EndpointName": "e", "WaiterConfig": {"Delay": 30, "MaxAttempts": 4}}]


def test_a_failed_wait_reads_as_the_caller_words_it() -> None:
    last = {"EndpointStatus": "Failed", "FailureReason": "image not found"}
    error = bx.WaiterError(name="EndpointInService", reason="terminal state", last_response=last)

    def failure(response: Any, text: str) -> str:
        return f"endpoint e: {response.get('FailureReason')} ({text})"

    with pytest.raises(DeepRacerError) as info:
        aws.wait(_Client(_Waiter(error)), "w", delay_s=1, timeout_s=0, failure=failure)
    assert str(info.value) == f"endpoint e: image not found ({error})"
    no_response = bx.WaiterError(name="w", reason="r", last_response=None)
    with pytest.raises(DeepRacerError, match=r"^got \{\}$"):
        aws.wait(
            _Client(_Waiter(no_response)),
            "w",
            delay_s=1,
            timeout_s=1,
            failure=lambda response, text: f"got {response}",
        )
