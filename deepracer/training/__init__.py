"""Training: stable-baselines3 on the DeepRacer environment.

Contents:
    experiment: experiment files (worlds, observation, action space, reward, preset, budget).
    presets: algorithm, network and hyperparameter presets; ``build_model``.
    networks: the DeepRacer CNNs, MLP and attention feature extractors.
    trainer: ``train`` -- run directories, logs, checkpoints, resume, best model.
    runlog: DeepRacer-format training metrics and simtrace, written atomically.
    plots: the run's ``training.png``.
    commands: the ``deepracer train`` and ``deepracer quickstart`` subcommands.
"""
