"""Export of trained policies: ONNX plus DeepRacer's model files in one archive.

Importing this package stays light (no torch, no onnx); the export itself imports
them when it runs.

Contents:
    export_run: write a run's archive (see :mod:`deepracer.export.archive`).
    check_archive: onnxruntime on an archive's model vs the torch policy.
    read_archive: an archive's members, checked against its manifest.
    deepracer.export.onnx_export: export_policy, check_export, ExportCheck (imports torch).
    deepracer.export.commands: add_export, the ``deepracer export`` command.
"""

from __future__ import annotations

from deepracer.export.archive import check_archive, export_run, read_archive

__all__ = ["check_archive", "export_run", "read_archive"]
