"""SageMaker training jobs for an uploaded experiment (``launch.backend: sagemaker``).

One training job runs the image built from ``docker/Dockerfile``: its entry point
reads the hyperparameter ``experiment`` (the experiment file inside the
``experiment`` channel), trains it with one simulation worker per world (the
DeepRacer on AWS pattern: simulation and learner in the same job) and resumes from
``/opt/ml/checkpoints``, which SageMaker syncs with the job's S3 checkpoint
location. The request is built and checked offline (botocore's service model when
botocore is installed), so ``--dry-run`` needs neither credentials nor a network.

boto3 and botocore are imported inside the functions, so this package imports
without the ``aws`` extra; the SageMaker Python SDK (``sagemaker`` extra) is only
needed for ``launch.sagemaker.sdk: modeltrainer``. This module gathers the
package's names; each lives in one module by responsibility:

Modules:
    request: job names, hyperparameters, metric definitions, the request itself.
    checks: ``check_request``, the offline validation naming experiment fields.
    jobs: SageMaker's wording of AWS errors (``client``, ``call``, ``aws_errors``
        over :mod:`deepracer.cloud.aws`) and the job's lifecycle.
    logs: the job's CloudWatch log lines.
    sdk: the same job through the SageMaker Python SDK 3.x.
"""

from __future__ import annotations

from deepracer.cloud.sagemaker.checks import check_request
from deepracer.cloud.sagemaker.jobs import (
    JobStatus,
    aws_errors,
    call,
    client,
    create_training_job,
    describe_job,
    list_jobs,
    stop_job,
)
from deepracer.cloud.sagemaker.logs import LOG_GROUP, job_logs
from deepracer.cloud.sagemaker.request import (
    CHECKPOINT_LOCAL_PATH,
    METRIC_NAMES,
    METRIC_PREFIX,
    format_metric_line,
    job_name,
    metric_definitions,
    training_hyperparameters,
    training_job_request,
)
from deepracer.cloud.sagemaker.sdk import model_trainer_launch

__all__ = [
    "CHECKPOINT_LOCAL_PATH",
    "LOG_GROUP",
    "METRIC_NAMES",
    "METRIC_PREFIX",
    "JobStatus",
    "aws_errors",
    "call",
    "check_request",
    "client",
    "create_training_job",
    "describe_job",
    "format_metric_line",
    "job_logs",
    "job_name",
    "list_jobs",
    "metric_definitions",
    "model_trainer_launch",
    "stop_job",
    "training_hyperparameters",
    "training_job_request",
]
