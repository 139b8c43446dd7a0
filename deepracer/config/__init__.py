"""Configuration plumbing shared by every layer: strict YAML loading and the data folders.

Contents:
    loader: strict YAML -> frozen dataclass loading (unknown keys suggest the closest).
    resources: the shipped data folders (``envs/``, ``presets/``, ...) and name lookup.
"""
