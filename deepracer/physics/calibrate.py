"""Fitting a vehicle profile to the real simulator's logs.

The fit replays the logs (see :mod:`deepracer.physics.replay`) and minimises the
model point's position errors 5, 15 and 30 steps ahead (each weighted by
``1 / sqrt(h)``, so no horizon dominates) over a sample of start rows, by
least squares on the logarithms of four parameters: the steering time constant,
the effective wheelbase, the speed time constant and the grip scale. The control
delay takes whole sub-steps (0 to one control step), so it is chosen by fitting the
four at each and keeping the best.

Part of the episodes (a quarter by default, drawn with the seed) are held out of the
fit and replayed afterwards: their errors say how the profile does on driving it has
not seen. The spread of the parameters over refits on episodes drawn with
replacement (a bootstrap, the delay chosen again each time) is their uncertainty.

Contents:
    FITTED: the parameters the fit moves.
    CalibrationResult: a fitted profile and how it replays.
    split_episodes: fit and held-out episodes.
    fit_vehicle: the least-squares fit at one control delay.
    calibrate: the whole procedure.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from deepracer.errors import DeepRacerError
from deepracer.logs.logset import LogSet
from deepracer.physics.profiles import Calibration, VehicleProfile
from deepracer.physics.replay import (
    HORIZONS,
    ReplayData,
    ReplayErrors,
    replay_distances,
    replay_errors,
)
from deepracer.physics.vehicle import VehicleParams

__all__ = ["FITTED", "CalibrationResult", "calibrate", "fit_vehicle", "split_episodes"]

FITTED = ("steering_time_constant", "effective_wheelbase", "speed_time_constant", "grip_scale")
"""The parameters :func:`fit_vehicle` moves (the delay is chosen over a grid)."""

FIT_HORIZONS = (5, 15, 30)
_START = (0.3, 0.25, 0.2, 1.0)  # a middle-of-the-road car to start from
_LOWER = (1e-3, 0.05, 1e-4, 0.05)
_UPPER = (3.0, 2.0, 3.0, 4.0)
_NOMINAL_DT = 1.0 / 15.0  # the simulator's control step, for the delay grid


@dataclass(frozen=True)
class CalibrationResult:
    """A fitted profile and how it replays.

    Attributes:
        profile: The fitted profile (its calibration records all below).
        before: Errors of the starting car on all the logs.
        fitted: Errors of the fitted car on the episodes it was fitted on.
        held_out: Errors of the fitted car on the held-out episodes (None if none).
        delay_costs: Fit cost at each control delay tried [s -> cost].
        uncertainty: Bootstrap standard deviation of each fitted parameter and of
            the control delay (re-chosen in every round).
    """

    profile: VehicleProfile
    before: ReplayErrors
    fitted: ReplayErrors
    held_out: ReplayErrors | None
    delay_costs: dict[float, float]
    uncertainty: dict[str, float]

    def report(self) -> str:
        """The fitted values and the error table, as text."""
        p = self.profile.params
        lines = ["fitted parameters (bootstrap standard deviation):"]
        for name in (*FITTED, "control_delay"):
            spread = self.uncertainty.get(name)
            extra = f"  +- {spread:.4f}" if spread is not None else ""
            lines.append(f"  {name:<24} {getattr(p, name):8.4f}{extra}")
        lines.append("mean position error of the model point [cm]:")
        lines.append(
            f"  {'horizon':>8} {'before':>8} {'fitted':>8} {'held out':>9} {'const. vel.':>12}"
        )
        for i, h in enumerate(self.fitted.horizons):
            held = f"{self.held_out.model_cm[i]:9.1f}" if self.held_out else f"{'-':>9}"
            lines.append(
                f"  {h:>8} {self.before.model_cm[i]:8.1f} {self.fitted.model_cm[i]:8.1f}"
                f" {held} {self.before.constant_velocity_cm[i]:12.1f}"
            )
        return "\n".join(lines)


def split_episodes(logs: LogSet, holdout: float, seed: int) -> tuple[LogSet, LogSet | None]:
    """Splits ``logs`` into fit and held-out episodes (``holdout`` of them, at least one).

    Raises:
        DeepRacerError: ``holdout`` is not in [0, 1), or it leaves fewer than two
            episodes to fit.
    """
    if not 0.0 <= holdout < 1.0:
        raise DeepRacerError(f"--holdout must be a fraction in [0, 1), got {holdout}")
    episodes = logs.episodes
    if holdout == 0.0:
        return logs, None
    held = max(1, round(holdout * len(episodes)))
    if len(episodes) - held < 2:
        raise DeepRacerError(
            f"the logs hold {len(episodes)} usable episodes: too few to hold {held} out and"
            " fit on the rest (use --holdout 0 to fit on all)"
        )
    order = np.random.default_rng(seed).permutation(len(episodes))
    out = set(order[:held].tolist())
    fit = [e for i, e in enumerate(episodes) if i not in out]
    test = [e for i, e in enumerate(episodes) if i in out]
    return (
        dataclasses.replace(logs, episodes=fit),
        dataclasses.replace(logs, episodes=test),
    )


def _with(
    base: VehicleParams, values: Sequence[float] | NDArray[np.float64], delay: float
) -> VehicleParams:
    changes: dict[str, Any] = dict(zip(FITTED, (float(v) for v in values), strict=True))
    return dataclasses.replace(base, **changes, control_delay=delay, traction_limit=False)


def fit_vehicle(
    data: ReplayData,
    starts: NDArray[np.int64],
    base: VehicleParams,
    delay: float,
    *,
    friction: float = 0.5,
    initial: Sequence[float] = _START,
) -> tuple[VehicleParams, float]:
    """Fits :data:`FITTED` at one control delay.

    Args:
        data: The flattened logs.
        starts: The start rows whose replays are fitted.
        base: The car whose other parameters (geometry, limits) are kept.
        delay: The control delay [s].
        friction: The logs' surface friction coefficient.
        initial: Where the search starts, in :data:`FITTED` order.

    Returns:
        The fitted car and the fit's cost (half the sum of squared residuals [m^2]).
    """

    def residuals(q: NDArray[np.float64]) -> NDArray[np.float64]:
        car = _with(base, np.exp(q), delay)
        out = replay_distances(data, car, starts, FIT_HORIZONS, friction)
        return np.concatenate(
            [np.where(out[h][2], out[h][0], 0.0) / math.sqrt(h) for h in FIT_HORIZONS]
        )

    result = least_squares(
        residuals,
        np.log(np.clip(initial, _LOWER, _UPPER)),
        bounds=(np.log(_LOWER), np.log(_UPPER)),
        diff_step=1e-3,
        max_nfev=200,
    )
    return _with(base, np.exp(result.x), delay), float(result.cost)


def _sample(starts: NDArray[np.int64], n: int, rng: np.random.Generator) -> NDArray[np.int64]:
    if len(starts) <= n:
        return starts
    return np.sort(rng.choice(starts, n, replace=False))


def calibrate(
    logs: LogSet,
    *,
    base: VehicleParams,
    name: str = "",
    description: str = "",
    sources: Sequence[str] = (),
    simapp: str = "",
    holdout: float = 0.25,
    seed: int = 0,
    samples: int = 3000,
    bootstrap: int = 10,
    friction: float = 0.5,
    progress: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fits a vehicle profile to real simulator logs.

    Args:
        logs: The real simulator's logs.
        base: The car to start from; its geometry and limits are kept, and its errors
            are the "before" column.
        name: The profile's name.
        description: The profile's one-line description.
        sources: The log paths, recorded in the profile.
        simapp: The simulator that wrote the logs, in words, recorded in the profile.
        holdout: Share of the episodes kept out of the fit to check it.
        seed: Seeds the hold-out draw, the start sample and the bootstrap.
        samples: Start rows the fit replays (a random sample of the fit episodes').
        bootstrap: Refits on resampled episodes for the uncertainty (0: none).
        friction: The logs' surface friction coefficient.
        progress: Called with a line of text as the fit advances.

    Returns:
        The fitted profile with its errors and uncertainty.

    Raises:
        DeepRacerError: Too few episodes, or episodes too short to replay 45 steps.
    """
    say = progress or (lambda _line: None)
    rng = np.random.default_rng(seed)
    fit_logs, held_logs = split_episodes(logs, holdout, seed)
    data = ReplayData.of(fit_logs)
    starts = _sample(data.starts, samples, rng)
    substeps = base.substeps
    delays = [k * _NOMINAL_DT / substeps for k in range(substeps + 1)]
    costs: dict[float, float] = {}
    per_delay: dict[float, VehicleParams] = {}
    best: tuple[VehicleParams, float] | None = None
    for delay in delays:
        # Two starts: the default and the best answer so far (the cost has local minima).
        tries = [fit_vehicle(data, starts, base, delay, friction=friction)]
        if best is not None:
            previous = [getattr(best[0], n) for n in FITTED]
            tries.append(
                fit_vehicle(data, starts, base, delay, friction=friction, initial=previous)
            )
        car, cost = min(tries, key=lambda fit: fit[1])
        costs[delay] = cost
        per_delay[delay] = car
        say(
            f"control delay {delay * 1000:5.1f} ms: cost {cost:8.3f}; "
            + ", ".join(f"{n} {getattr(car, n):.4f}" for n in FITTED)
        )
        if best is None or cost < best[1]:
            best = (car, cost)
    assert best is not None
    car = best[0]
    spread = _bootstrap(fit_logs, per_delay, bootstrap, samples, friction, rng, say)
    before = replay_errors(logs, base, horizons=HORIZONS, friction=friction)
    fitted = replay_errors(data, car, horizons=HORIZONS, friction=friction)
    held = (
        replay_errors(held_logs, car, horizons=HORIZONS, friction=friction)
        if held_logs is not None
        else None
    )
    errors = {
        "before": _by_horizon(before.model_cm),
        "fitted": _by_horizon(fitted.model_cm),
        "constant_velocity": _by_horizon(before.constant_velocity_cm),
    }
    if held is not None:
        errors["held_out"] = _by_horizon(held.model_cm)
    calibration = Calibration(
        logs=tuple(sources),
        simapp=simapp,
        fitted_steps=len(data.starts),
        held_out_steps=len(ReplayData.of(held_logs).starts) if held_logs else 0,
        surface_friction=friction,
        errors_cm=errors,
        uncertainty={k: round(v, 5) for k, v in spread.items()},
        date=datetime.date.today().isoformat(),
    )
    rounding: dict[str, Any] = {n: round(getattr(car, n), 4) for n in (*FITTED, "control_delay")}
    rounded = dataclasses.replace(car, **rounding)
    profile = VehicleProfile(
        name=name, description=description, params=rounded, calibration=calibration
    )
    return CalibrationResult(profile, before, fitted, held, costs, spread)


def _by_horizon(values: Sequence[float]) -> dict[str, float]:
    return {str(h): round(v, 1) for h, v in zip(HORIZONS, values, strict=True)}


def _bootstrap(
    logs: LogSet,
    per_delay: dict[float, VehicleParams],
    rounds: int,
    samples: int,
    friction: float,
    rng: np.random.Generator,
    say: Callable[[str], None],
) -> dict[str, float]:
    """Standard deviation of each fitted parameter over refits on resampled episodes.

    Each round picks the delay again: a longer delay and a quicker steering lag can
    explain the same logs almost equally well, and the spread must show that.
    """
    if rounds < 2:
        return {}
    names = (*FITTED, "control_delay")
    draws = []
    n = len(logs.episodes)
    for r in range(rounds):
        picked = [logs.episodes[i] for i in rng.integers(0, n, n).tolist()]
        data = ReplayData.of(dataclasses.replace(logs, episodes=picked))
        starts = _sample(data.starts, samples, rng)
        fits = [
            fit_vehicle(
                data,
                starts,
                car,
                delay,
                friction=friction,
                initial=[getattr(car, name) for name in FITTED],
            )
            for delay, car in per_delay.items()
        ]
        refit, _ = min(fits, key=lambda fit: fit[1])
        draws.append([getattr(refit, name) for name in names])
        say(f"bootstrap {r + 1}/{rounds}: control delay {refit.control_delay * 1000:.1f} ms")
    spread = np.std(np.array(draws), axis=0, ddof=1)
    return dict(zip(names, (float(s) for s in spread), strict=True))
