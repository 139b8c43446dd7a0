"""Models: presets (algorithm, network, hyperparameters) and the networks they build.

This layer sits below both training and evaluation: the trainer builds a fresh model
from a run's preset, evaluation rebuilds one to load a saved policy into.

Contents:
    presets: algorithm, network and hyperparameter presets; ``build_model``.
    networks: the DeepRacer CNNs, MLP and attention feature extractors.
"""
