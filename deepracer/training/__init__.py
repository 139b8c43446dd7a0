"""Training: stable-baselines3 on RacingEnv.

Contents:
    quickstart: the README main job (train, evaluate, plot).
"""
