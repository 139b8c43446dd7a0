"""Sweeps: many trainings of one experiment with varied values, on Ray Tune.

``deepracer sweep SWEEP.yaml`` (the ``ray`` extra): :mod:`~deepracer.sweep.config`
reads the sweep file, :mod:`~deepracer.sweep.runner` runs the trials on Tune,
:mod:`~deepracer.sweep.report` ranks them; :mod:`~deepracer.sweep.layout` owns the
sweep directory's file names.
"""
