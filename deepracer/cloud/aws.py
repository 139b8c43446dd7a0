"""The one AWS layer: boto3 clients, calls, and botocore's errors as one clear message.

Every module that talks to AWS (the cloud commands, S3 storage, the plugins) creates
its clients and makes its calls through here, so a missing credential, an
unreachable endpoint or a refused request reads alike everywhere: the operation and
what it was about, the service's own words (error code and message), and what to do.

What differs between services is wording, not logic: a caller with its own advice
(a quota, a permission, a note) passes :class:`ErrorMessages` or
:class:`ClientMessages` templates instead of writing its own translation. A caller
that needs its own exception types (S3 storage) builds them on
:func:`error_kind` / :func:`code_kind`, :func:`error_code` and :func:`error_message`.

boto3 and botocore are imported inside the functions: importing this module needs
neither (they come with the ``aws`` extra).

Contents:
    AWS_EXTRA: the install hint for boto3.
    ClientMessages, client: a boto3 client with standard retries; its setup errors.
    error_code, error_message, http_status, endpoint_of: parts of a botocore error.
    ErrorKind, error_kind, code_kind: what kind of failure an exception is.
    ErrorMessages, translate: a botocore exception as a DeepRacerError.
    aws_errors, call: the context manager and the call wrapper that translate.
    wait: a botocore waiter with a time limit; its failure as a DeepRacerError.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from deepracer.errors import ConfigError, DeepRacerError

__all__ = [
    "AWS_EXTRA",
    "DEFAULT_CLIENT_MESSAGES",
    "DEFAULT_MESSAGES",
    "ClientMessages",
    "ErrorKind",
    "ErrorMessages",
    "aws_errors",
    "call",
    "client",
    "code_kind",
    "endpoint_of",
    "error_code",
    "error_kind",
    "error_message",
    "http_status",
    "translate",
    "wait",
]

T = TypeVar("T")

AWS_EXTRA = "pip install 'deepracer[aws]'"
"""How to install boto3 and botocore."""

_RETRIES = {"mode": "standard", "max_attempts": 5}

# ---------------------------------------------------------------------------- clients


@dataclass(frozen=True)
class ClientMessages:
    """How :func:`client`'s setup errors read: ``str.format`` templates.

    Each template may use ``{service}``, ``{endpoint_url}`` and ``{error}`` (the
    botocore exception's text).

    Attributes:
        boto3: boto3 or botocore is not installed.
        region: No region is configured (botocore's NoRegionError).
        profile: AWS_PROFILE names a profile the AWS configuration lacks.
        service: This botocore has no such service.
        endpoint: The endpoint URL is not a URL.
        other: Any other botocore error while creating the client.
    """

    boto3: str = f"the AWS {{service}} client needs boto3: {AWS_EXTRA}"
    region: str = "no AWS region for {service}: set AWS_REGION (or a region in ~/.aws/config)"
    profile: str = "AWS profile not found: {error}; check AWS_PROFILE"
    service: str = "this botocore has no {service!r} client (the service may be retired)"
    endpoint: str = "invalid endpoint URL {endpoint_url!r} for {service}: {error}"
    other: str = "cannot create an AWS {service} client: {error}"


DEFAULT_CLIENT_MESSAGES = ClientMessages()
"""The service-neutral wording of :func:`client`'s errors."""


def client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    options: Mapping[str, Any] | None = None,
    env_region: bool = True,
    messages: ClientMessages = DEFAULT_CLIENT_MESSAGES,
    error: type[DeepRacerError] = DeepRacerError,
) -> Any:
    """Returns a boto3 client with botocore's standard retry mode (5 attempts).

    Args:
        service: ``sagemaker``, ``logs``, ``s3``, ``polly``, ...
        region: The AWS region; None: AWS_REGION (see ``env_region``), then
            AWS_DEFAULT_REGION and the AWS configuration.
        endpoint_url: A non-AWS endpoint (moto server, MinIO), or None.
        options: More ``botocore.config.Config`` options; one this botocore does not
            know (an older release) is left out.
        env_region: Read AWS_REGION when ``region`` is None (botocore reads only
            AWS_DEFAULT_REGION; AWS_REGION is what most tools set).
        messages: The wording of the setup errors.
        error: The exception class raised (a DeepRacerError subclass).

    Raises:
        DeepRacerError: (``error``) boto3 is not installed, no region is configured,
            the profile or service is unknown, or the endpoint URL is invalid.
    """
    fields: dict[str, Any] = {"service": service, "endpoint_url": endpoint_url, "error": ""}
    try:
        import boto3.session
        from botocore import exceptions as bx
        from botocore.config import Config
    except ImportError:
        raise error(messages.boto3.format(**fields)) from None
    if region is None and env_region:
        region = os.environ.get("AWS_REGION") or None
    settings: dict[str, Any] = {"retries": dict(_RETRIES)}
    settings.update(options or {})
    settings = {k: v for k, v in settings.items() if k in Config.OPTION_DEFAULTS}
    try:
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=endpoint_url or None,
            config=Config(**settings),
        )
    except bx.NoRegionError as exc:
        raise error(messages.region.format(**(fields | {"error": exc}))) from None
    except bx.ProfileNotFound as exc:
        raise error(messages.profile.format(**(fields | {"error": exc}))) from None
    except bx.UnknownServiceError as exc:
        raise error(messages.service.format(**(fields | {"error": exc}))) from None
    except ValueError as exc:  # botocore's "Invalid endpoint: ..."
        raise error(messages.endpoint.format(**(fields | {"error": exc}))) from None
    except bx.BotoCoreError as exc:
        raise error(messages.other.format(**(fields | {"error": exc}))) from exc


# ---------------------------------------------------------------------------- errors


def error_code(exc: BaseException) -> str:
    """The service's error code of a ClientError (``AccessDenied``, ...), else ``""``.

    Example:
        >>> error_code(KeyError("x"))
        ''
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "") or "")
    return ""


def error_message(exc: BaseException, default: str | None = None) -> str:
    """The service's error message of a ClientError.

    Args:
        exc: The exception.
        default: What to return when the response has no message; None: the
            exception's own text.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(exc) if default is None else default


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a ClientError's response, or None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if isinstance(status, int) else None
    return None


def endpoint_of(exc: BaseException, default: str = "the AWS endpoint") -> str:
    """The endpoint URL a connection error names, or ``default``."""
    kwargs = getattr(exc, "kwargs", None)
    endpoint = kwargs.get("endpoint_url") if isinstance(kwargs, dict) else None
    return str(endpoint) if endpoint else default


class ErrorKind(enum.StrEnum):
    """What kind of failure a botocore exception is (see :func:`error_kind`)."""

    NO_CREDENTIALS = "no credentials"
    """No credentials were found, or they could not be loaded (SSO, a process)."""
    NO_REGION = "no region"
    """No region is configured."""
    UNREACHABLE = "unreachable"
    """The endpoint could not be reached, or the connection broke or timed out."""
    BAD_PARAMETERS = "bad parameters"
    """botocore refused the parameters before sending anything."""
    REJECTED_CREDENTIALS = "rejected credentials"
    """The service rejected the credentials (expired, unknown key, bad signature)."""
    ACCESS_DENIED = "access denied"
    """The identity lacks permission (or HTTP 403)."""
    NOT_FOUND = "not found"
    """The resource does not exist (or HTTP 404)."""
    REFUSED = "refused"
    """The service refused the request as invalid or in conflict; its message says why."""
    QUOTA = "quota"
    """An account quota is used up."""
    THROTTLED = "throttled"
    """The service throttled the requests (after botocore's own retries)."""
    FAILED = "failed"
    """Any other service error."""
    OTHER = "other"
    """Any other botocore error."""

    @property
    def answered(self) -> bool:
        """The service answered with this error (a ClientError), not this side's botocore."""
        return self not in _LOCAL_KINDS


_LOCAL_KINDS = frozenset(
    {
        ErrorKind.NO_CREDENTIALS,
        ErrorKind.NO_REGION,
        ErrorKind.UNREACHABLE,
        ErrorKind.BAD_PARAMETERS,
        ErrorKind.OTHER,
    }
)
_REJECTED_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "InvalidToken",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
_ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "Forbidden", "403"}
)
_NOT_FOUND = frozenset(
    {
        "NoSuchBucket",
        "NoSuchEntity",
        "NoSuchKey",
        "NotFound",
        "ResourceNotFound",
        "ResourceNotFoundException",
        "404",
    }
)
_REFUSED = frozenset(
    {
        "ConflictException",
        "InvalidParameterException",
        "InvalidParameterValueException",
        "ResourceInUse",
        "ResourceInUseException",
        "ValidationError",
        "ValidationException",
    }
)
_QUOTA = frozenset({"ResourceLimitExceeded", "ServiceQuotaExceededException"})
_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)
_BY_CODE = (
    (_REJECTED_CREDENTIALS, ErrorKind.REJECTED_CREDENTIALS),
    (_ACCESS_DENIED, ErrorKind.ACCESS_DENIED),
    (_NOT_FOUND, ErrorKind.NOT_FOUND),
    (_REFUSED, ErrorKind.REFUSED),
    (_QUOTA, ErrorKind.QUOTA),
    (_THROTTLED, ErrorKind.THROTTLED),
)
_BY_STATUS = {403: ErrorKind.ACCESS_DENIED, 404: ErrorKind.NOT_FOUND, 429: ErrorKind.THROTTLED}
_CREDENTIAL_ERRORS = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "TokenRetrievalError",
    "SSOError",
)


def code_kind(code: str, status: int | None = None) -> ErrorKind:
    """The kind of a service error from its code, else its HTTP status.

    Example:
        >>> code_kind("ExpiredTokenException").name, code_kind("Teapot", 404).name
        ('REJECTED_CREDENTIALS', 'NOT_FOUND')
    """
    for codes, kind in _BY_CODE:
        if code in codes:
            return kind
    return _BY_STATUS.get(status or 0, ErrorKind.FAILED)


def error_kind(exc: BaseException) -> ErrorKind | None:
    """The kind of a botocore exception; None for any other (and for Stubber's own).

    botocore's Stubber errors (an unexpected call or parameters) are left alone, so a
    test's mistake is not reported as an AWS error.
    """
    try:
        from botocore import exceptions as bx
    except ImportError:
        return None
    if isinstance(exc, bx.ClientError):
        return code_kind(error_code(exc), http_status(exc))
    if not isinstance(exc, bx.BotoCoreError) or isinstance(exc, bx.StubResponseError):
        return None
    credentials = tuple(getattr(bx, name) for name in _CREDENTIAL_ERRORS if hasattr(bx, name))
    if isinstance(exc, credentials):
        return ErrorKind.NO_CREDENTIALS
    if isinstance(exc, bx.NoRegionError):
        return ErrorKind.NO_REGION
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        return ErrorKind.UNREACHABLE
    if isinstance(exc, bx.ParamValidationError):
        return ErrorKind.BAD_PARAMETERS
    return ErrorKind.OTHER


_CREDENTIALS_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run"
    " `aws configure` / `aws sso login`"
)


@dataclass(frozen=True)
class ErrorMessages:
    """How each :class:`ErrorKind` reads: ``str.format`` templates.

    The templates may use ``{operation}`` (as the caller named it, e.g.
    ``rekognition.detect_custom_labels``), ``{api}`` (the service's name of the
    operation from a ClientError, e.g. ``DetectCustomLabels``; else
    ``{operation}``), ``{about}`` (`` (training job NAME)`` or empty), ``{code}``
    and ``{message}`` (the service's), ``{error}`` (the exception's text) and
    ``{endpoint}`` (of a connection error). The defaults suit any service; a caller
    replaces the ones it has better advice for (``dataclasses.replace``).

    Attributes:
        no_credentials: :attr:`ErrorKind.NO_CREDENTIALS`.
        no_region: :attr:`ErrorKind.NO_REGION`.
        unreachable: :attr:`ErrorKind.UNREACHABLE`.
        bad_parameters: :attr:`ErrorKind.BAD_PARAMETERS` (raised as ConfigError).
        rejected_credentials: :attr:`ErrorKind.REJECTED_CREDENTIALS`.
        access_denied: :attr:`ErrorKind.ACCESS_DENIED`.
        not_found: :attr:`ErrorKind.NOT_FOUND`.
        refused: :attr:`ErrorKind.REFUSED`.
        quota: :attr:`ErrorKind.QUOTA`.
        throttled: :attr:`ErrorKind.THROTTLED`.
        failed: :attr:`ErrorKind.FAILED`.
        other: :attr:`ErrorKind.OTHER`.
        note: A sentence appended to every message (empty: none).
    """

    no_credentials: str = (
        "{operation}{about}: no AWS credentials found ({error}); " + _CREDENTIALS_HINT
    )
    no_region: str = (
        "{operation}{about}: no AWS region; set AWS_REGION (or a region in ~/.aws/config)"
    )
    unreachable: str = (
        "{operation}{about}: cannot reach {endpoint} ({error}); check the network, the"
        " region and the endpoint URL"
    )
    bad_parameters: str = "{operation}{about}: {error}"
    rejected_credentials: str = (
        "{api}{about}: AWS rejected the credentials ({code}: {message}); refresh them"
        " (new session token, `aws sso login`) or check AWS_PROFILE"
    )
    access_denied: str = (
        "{api}{about}: access denied ({code}: {message}); the AWS identity needs"
        " permission for {api}"
    )
    not_found: str = "{api}{about}: {message} ({code})"
    refused: str = "{api}{about}: {message} ({code})"
    quota: str = (
        "{api}{about}: {message} ({code}); an account quota is used up: free some of it,"
        " or ask for more in Service Quotas"
    )
    throttled: str = (
        "{api}{about} failed ({code}): {message}; AWS throttled the requests, also"
        " botocore's retries: wait a minute and try again"
    )
    failed: str = "{api}{about} failed ({code}): {message}"
    other: str = "{operation}{about}: {error}"
    note: str = ""


DEFAULT_MESSAGES = ErrorMessages()
"""The service-neutral wording."""


def _with_note(text: str, note: str) -> str:
    if not note:
        return text
    return f"{text} {note}" if text.endswith((".", "!", "?")) else f"{text}. {note}"


def translate(
    exc: BaseException,
    operation: str = "AWS call",
    *,
    subject: str | None = None,
    messages: ErrorMessages = DEFAULT_MESSAGES,
) -> DeepRacerError | None:
    """The DeepRacerError for a botocore exception, or None for any other exception.

    Args:
        exc: What the call raised.
        operation: Names the call (a ClientError also names the service's operation,
            ``{api}``).
        subject: What the call was about (``training job NAME``), or None.
        messages: The wording.

    Returns:
        A ConfigError for parameters botocore refused, a DeepRacerError for every
        other botocore error, None for an exception that is not botocore's.

    Example:
        >>> from botocore.exceptions import ClientError
        >>> error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        >>> str(translate(ClientError(error, "DescribeVoices"), "polly.describe_voices"))[:54]
        'DescribeVoices failed (ThrottlingException): Rate exce'
    """
    kind = error_kind(exc)
    if kind is None:
        return None
    api = getattr(exc, "operation_name", None) or operation
    code = error_code(exc)
    template = getattr(messages, kind.name.lower())
    text = template.format(
        operation=operation,
        api=api,
        about=f" ({subject})" if subject else "",
        code=code,
        message=error_message(exc),
        error=exc,
        endpoint=endpoint_of(exc),
    )
    text = _with_note(text, messages.note)
    return ConfigError(text) if kind is ErrorKind.BAD_PARAMETERS else DeepRacerError(text)


@contextlib.contextmanager
def aws_errors(
    operation: str = "AWS call",
    *,
    subject: str | None = None,
    messages: ErrorMessages = DEFAULT_MESSAGES,
) -> Iterator[None]:
    """Turns botocore errors raised inside the block into DeepRacerError (see :func:`translate`).

    A DeepRacerError raised inside passes unchanged, and so does any exception that
    is not botocore's.

    Example:
        ``with aws_errors("athena.get_query_results"): page = athena.get_query_results(...)``
    """
    try:
        yield
    except DeepRacerError:
        raise
    except Exception as exc:
        translated = translate(exc, operation, subject=subject, messages=messages)
        if translated is None:
            raise
        raise translated from exc


def _operation_of(fn: Callable[..., Any]) -> str:
    """``service.method`` for a boto3 client method, else the function's name."""
    name = getattr(fn, "__name__", None) or "AWS call"
    meta = getattr(getattr(fn, "__self__", None), "meta", None)
    service = getattr(getattr(meta, "service_model", None), "service_name", None)
    return f"{service}.{name}" if isinstance(service, str) else str(name)


def call(
    fn: Callable[..., T],
    /,
    *,
    operation: str | None = None,
    subject: str | None = None,
    messages: ErrorMessages = DEFAULT_MESSAGES,
    **params: Any,
) -> T:
    """Calls a boto3 client method with ``params``, translating its errors.

    Args:
        fn: The bound method, e.g. ``polly.describe_voices``.
        operation: Names the call; default ``service.method`` (``polly.describe_voices``).
        subject: What the call is about (``labeling job NAME``), or None.
        messages: The wording (see :class:`ErrorMessages`).
        **params: The request (AWS's parameter names are CamelCase, so they never
            collide with the keywords above).

    Raises:
        DeepRacerError: Any botocore error, translated (see :func:`translate`).

    Example:
        ``call(sm.describe_labeling_job, subject=f"labeling job {name}", LabelingJobName=name)``
    """
    with aws_errors(operation or _operation_of(fn), subject=subject, messages=messages):
        return fn(**params)


def wait(
    client: Any,
    waiter: str,
    *,
    delay_s: float,
    timeout_s: float,
    failure: Callable[[Mapping[str, Any], str], str],
    **params: Any,
) -> None:
    """Runs a botocore waiter, polling every ``delay_s`` for at most about ``timeout_s``.

    Args:
        client: The boto3 client.
        waiter: The waiter's name (``endpoint_in_service``, ...).
        delay_s: Seconds between the waiter's describe calls.
        timeout_s: How long to wait in all.
        failure: The message for a waiter that failed or timed out, from the last
            describe response (``{}`` when there was none) and the waiter's own text.
        **params: The describe call's parameters.

    Raises:
        DeepRacerError: The waiter failed or ran out of attempts (``failure``'s text).
    """
    from botocore.exceptions import WaiterError

    attempts = max(1, math.ceil(timeout_s / delay_s))
    try:
        client.get_waiter(waiter).wait(
            **params, WaiterConfig={"Delay": delay_s, "MaxAttempts": attempts}
        )
    except WaiterError as exc:
        last = getattr(exc, "last_response", None)
        raise DeepRacerError(failure(last if isinstance(last, dict) else {}, str(exc))) from None
