"""``label_chain``: chained SageMaker Ground Truth labeling jobs, simulated and checked.

The article chains a stopped labeling job: the new job reads the prior job's output
manifest and, under the same label attribute name, sends only the objects that are
unlabelled or failed; a different name relabels everything; third-party labels in
Ground Truth's format count like the service's own. This plugin reads and writes
those augmented manifests (sharing :mod:`deepracer.plugins.custom_labels.manifest`),
runs the article's six scenarios (Non-AL / AL / third-party parent, Non-AL / AL
chained job) on scikit-learn's digits with a scripted human oracle and Ground
Truth-style automated labeling, checks that every object is labelled exactly once,
and prices each scenario. ``backend: aws`` chains an existing job with
``create_labeling_job`` (Ground Truth is no longer open to new customers).

Only the config is imported here; the run imports scikit-learn and matplotlib.

Contents:
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
    LabelChainConfig: the experiment section (see :mod:`.config`).
    config, chain, simulate, scenarios, plots, aws, run: the modules.
"""

from __future__ import annotations

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.kit import DeferredRun
from deepracer.plugins.label_chain.config import LabelChainConfig

__all__ = ["LabelChainConfig", "plugin"]


plugin = Plugin(
    name="label_chain",
    description="chained Ground Truth labeling jobs: only unlabelled/failed objects go out again",
    config=LabelChainConfig,
    run=DeferredRun("deepracer.plugins.label_chain.run"),
    article=(
        '"Chaining Amazon SageMaker Ground Truth jobs to label progressively", AWS Machine'
        " Learning Blog, 2019"
    ),
    references=(
        Reference("Labels before the parent job was stopped", "1,000", metric="stop_after_labels"),
        Reference(
            "Objects a job chained under the same attribute sends",
            "only the unlabelled or failed ones",
            metric="s1_first_chain_sent",
        ),
        Reference(
            "Objects sent under a different attribute name", "all of them", metric="restart_sent"
        ),
        Reference(
            "Third-party labels accepted in the input",
            "989 of 3,450 objects",
            metric="third_party_labels",
        ),
        Reference(
            "Labeling cost saved with automated labeling [%]",
            "up to 70",
            metric="max_saved_pct",
        ),
        Reference(
            "Auto-label accuracy",
            "not given (Ground Truth's threshold targets 95 %)",
            metric="auto_accuracy",
        ),
    ),
    extra="labels",
)
