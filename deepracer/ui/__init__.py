"""``deepracer ui``: a local dashboard of the runs under one folder, in the browser.

The server reads run directories and nothing else: it never imports a run's reward
function, never unpickles a model and never writes to a run, so a downloaded or
imported run is shown, not run. Live training is followed through the run's own
files (``training_metrics.json``, ``progress.json``, ``evaluations.json``), which the
trainer writes whole or not at all, so the trainer needs no server and a crash loses
nothing. The page is static HTML and JavaScript with Plotly.js, which the ``plotly``
package ships: ``pip install 'deepracer[ui]'`` is all it takes.

Contents:
    catalog: which folders under the runs folder are runs, and their names.
    metrics: ``training_metrics.json`` read incrementally, episodes as arrays.
    summary: one line of the runs list per run, cached by the files' stats.
    views: the track, trajectories, action usage, evaluation trials, camera frames.
    app: the FastAPI application (``create_app``).
"""
