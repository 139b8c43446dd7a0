"""Cloud: artifacts in S3, SageMaker training jobs and the legacy RoboMaker requests.

Everything here that talks to AWS imports boto3 lazily (the ``aws`` extra), and only
the cloud commands import this package; the simulator and local training never do.

Modules:
    aws: the one AWS layer: boto3 clients, calls, botocore errors as DeepRacerError
        (every module here and every plugin that talks to AWS goes through it).
    layout: where an uploaded experiment's files live under ``s3://BUCKET/PREFIX``.
    storage: the local-directory and S3 storage backends, verified uploads.
    artifacts: an experiment to the files a training job reads, and back.
    sagemaker: training jobs (package): ``request`` (names, hyperparameters,
        metrics, the request), ``checks`` (offline validation), ``jobs`` (create,
        describe, list, stop), ``logs`` (CloudWatch lines), ``sdk`` (ModelTrainer).
    robomaker: the seed's per-world ``create_simulation_job`` requests.
    container: the training image's entry point (SageMaker's ``/opt/ml`` layout).
    commands: ``deepracer upload | download | launch | jobs``.
"""
