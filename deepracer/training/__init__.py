"""Training: stable-baselines3 on the DeepRacer environment.

The experiment files it reads live one layer down in :mod:`deepracer.experiment`, the
presets and networks it builds models from in :mod:`deepracer.models`: evaluation
needs both too, and must not import training.

Contents:
    trainer: ``train`` -- run directories, logs, checkpoints, resume, best model.
    runlog: DeepRacer-format training metrics and simtrace, written atomically.
    plots: the run's ``training.png``.
    commands: the ``deepracer train`` and ``deepracer quickstart`` subcommands.
"""
