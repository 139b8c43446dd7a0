"""The DeepRacer time-trial environment.

One car on one world. The step follows the simapp's order so that reward functions
see what they see in the console:

* ``reset()`` is the simapp's *prepare* step: the car is placed at the start point at
  rest, ``steps`` is 1, the status is ``prepare`` and no reward function is called
  (``info["params"]`` describes the start pose).
* ``step(action)`` first *judges* the current pose with the new action (the params,
  the episode status and the reward, exactly as the simapp reads the pose right after
  sending an action), then, unless the episode ended, drives one control step
  (1/15 s) with the noisy, clipped command. So the reward function first sees
  ``steps == 2`` at the start pose, and the returned observation is the new pose.

Episode statuses (``info["episode_status"]``): ``prepare``, ``in_progress``,
``lap_complete``, ``off_track`` (no wheel on the road), ``reversed`` (progress fell on
15 consecutive steps), ``immobilized`` (the model point moved < 0.3 mm on 15
consecutive steps) end the episode (``terminated``); ``time_up`` (the step cap or
time limit) truncates it.

Object avoidance and head-to-bot (a world whose ``race_type`` has objects, see
:mod:`deepracer.envs.objects`): every reset lays out the obstacles or bot cars again
(from the env's generator) and starts the car in the lane away from an object within
1 m; bot cars drive on with the clock. A step whose car touches an obstacle, or
runs into a bot car from behind, ends as ``crashed`` (``is_crashed`` true); a bot car
that runs into the car from behind stops all bot cars for ``penalty_seconds``
instead. The ``objects_*`` params are the simapp's (:func:`deepracer.rewards.objects.
object_params`), seen at the same instant as the car. With ``episode.resets`` a
crashed car is put back (1 m behind the obstacle it hit, in the other lane; at its
place after a bot-car crash) after ``episode.collision_penalty`` seconds.

Continuous laps (``episode.laps > 1``, the simapp's ``IS_CONTINUOUS``): a step that
completes a lap before the last one still reports ``lap_complete`` with progress 100
(so a simtrace shows every lap), but the car drives on and progress restarts from
where it is past the line; ``info["lap_count"]`` counts completed laps and a
lap-completing step adds ``info["lap_time"]`` (sim time since the previous line
crossing or the start, penalties included).

Contents:
    EpisodeStatus: the status names.
    RacingEnv: the gymnasium environment (``DeepRacer/TimeTrial-v0``).
    object_avoidance_env, head_to_bot_env: ``DeepRacer/ObjectAvoidance-v0`` and
        ``DeepRacer/HeadToBot-v0``: a RacingEnv on a world of that race type.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from deepracer import accel
from deepracer.config.loader import from_mapping
from deepracer.envs.action import make_action_type
from deepracer.envs.config import EnvConfig, sensor_configs, vehicle_of
from deepracer.envs.objects import (
    BotCars,
    MercyReset,
    obstacle_objects,
    place_obstacles,
    reset_pose,
    training_start_pose,
)
from deepracer.envs.observation import (
    CarView,
    EpisodeVariation,
    StateObservation,
    make_observation,
    object_features,
)
from deepracer.envs.start_state import parse_start_state, place_on
from deepracer.envs.world import WorldConfig, load_world
from deepracer.errors import ConfigError
from deepracer.physics import STATE_SIZE, CarState, VehicleParams, car_points, rest_state, step
from deepracer.rendering.topdown import TopDownRenderer
from deepracer.rewards import RewardFunction, load_reward_function
from deepracer.rewards.objects import (
    CameraFrustum,
    SceneObject,
    bot_car_progress,
    bot_collision_outcome,
    collided_object,
    object_params,
)
from deepracer.rewards.params import build_params, compute_progress
from deepracer.tracks import Track, TrackPoint, get_track

__all__ = [
    "STATUS_DISPLAY_NAMES",
    "EpisodeStatus",
    "RacingEnv",
    "draw_variation",
    "head_to_bot_env",
    "object_avoidance_env",
]


class EpisodeStatus(StrEnum):
    """Episode statuses as written in simtraces (``metrics/constants.py``)."""

    PREPARE = "prepare"
    IN_PROGRESS = "in_progress"
    LAP_COMPLETE = "lap_complete"
    OFF_TRACK = "off_track"
    CRASHED = "crashed"
    REVERSED = "reversed"
    IMMOBILIZED = "immobilized"
    TIME_UP = "time_up"


_TRAJECTORY_POINTS = 5000
"""Model points of an episode that :meth:`RacingEnv.render` draws (the newest)."""

STATUS_DISPLAY_NAMES = {
    "lap_complete": "Lap complete",
    "off_track": "Off track",
    "crashed": "Crashed",
    "reversed": "Reversed",
    "immobilized": "Immobilized",
    "time_up": "Time up",
}
"""Final statuses as DeepRacer's training and evaluation metrics files spell them."""

_TERMINAL = frozenset(
    {
        EpisodeStatus.LAP_COMPLETE,
        EpisodeStatus.OFF_TRACK,
        EpisodeStatus.CRASHED,
        EpisodeStatus.REVERSED,
        EpisodeStatus.IMMOBILIZED,
    }
)


def draw_variation(world: WorldConfig, rng: np.random.Generator) -> EpisodeVariation:
    """Draws one episode's domain randomisation; always the same 7 draws, in order."""
    r = world.randomization
    u = rng.random(7)

    def pick(bounds: tuple[float, float], x: float) -> float:
        return bounds[0] + x * (bounds[1] - bounds[0])

    return EpisodeVariation(
        friction=world.surface.friction * pick(r.friction_scale, u[0]),
        speed_scale=pick(r.battery, u[1]),
        brightness=pick(r.brightness, u[2]),
        contrast=pick(r.contrast, u[3]),
        gamma=pick(r.gamma, u[4]),
        camera_height_offset=r.camera_height_jitter * (2.0 * u[5] - 1.0),
        camera_pitch_offset_deg=r.camera_pitch_jitter_deg * (2.0 * u[6] - 1.0),
    )


class _Geometry(NamedTuple):
    """What one step needs to know about the car's pose on the track."""

    origin: tuple[float, float]
    model_point: tuple[float, float]
    where: TrackPoint
    all_wheels_on_track: bool
    any_wheel_on_track: bool


class _Kernels:
    """The compiled (numba) path for one car; same results as the Python path."""

    def __init__(self, vehicle: Any) -> None:
        self.vehicle = vehicle
        self.state = np.zeros((1, STATE_SIZE))
        self.cars = np.zeros(1, dtype=np.int64)
        self.floats = np.zeros((1, len(accel.GEOMETRY_FLOATS)))
        self.ints = np.zeros((1, 3), dtype=np.int64)
        self.bools = np.zeros((1, 3), dtype=np.bool_)
        self.steer = np.zeros(1)
        self.speed = np.zeros(1)
        self.friction = np.zeros(1)
        self.located: Track | None = None

    def geometry(self, track: Track, state: CarState) -> _Geometry:
        self.state[0] = state
        accel.locate_cars(
            accel.pack_track(track),
            self.cars,
            self.state,
            self.vehicle,
            self.floats,
            self.ints,
            self.bools,
        )
        self.located = track
        f = self.floats[0].tolist()
        prev, nxt, _ = self.ints[0].tolist()
        left, all_on, off = self.bools[0].tolist()
        where = TrackPoint(f[0], f[1], prev, nxt, (f[2], f[3]), f[4], f[5], f[6], f[7], left)
        return _Geometry((f[8], f[9]), (f[10], f[11]), where, all_on, not off)

    def drive(
        self,
        state: CarState,
        steer: float,
        speed: float,
        friction: float,
        dt: float,
    ) -> CarState:
        self.state[0] = state
        self.steer[0], self.speed[0], self.friction[0] = steer, speed, friction
        accel.physics_step(
            self.cars, self.state, self.steer, self.speed, self.friction, self.vehicle, dt
        )
        x, y, yaw, v, delta, steer_cmd, speed_cmd = self.state[0].tolist()
        return x, y, yaw, v, delta, steer_cmd, speed_cmd

    def observe_state(
        self, track: Track, lookahead: NDArray[np.float64], head: int
    ) -> NDArray[np.float32]:
        """The state observation of the pose last passed to :meth:`geometry`."""
        out = np.empty((1, head + 2 * len(lookahead)), dtype=np.float32)
        accel.state_observation(
            accel.pack_track(track),
            self.cars,
            self.state,
            self.floats,
            self.ints[:, 2],
            self.bools[:, 0],
            lookahead,
            self.vehicle,
            out,
            head,
        )
        row: NDArray[np.float32] = out[0]
        return row


_RESET_OPTIONS = ("start_ndist", "state")

_RESETTABLE = frozenset(
    {
        EpisodeStatus.OFF_TRACK,
        EpisodeStatus.CRASHED,
        EpisodeStatus.REVERSED,
        EpisodeStatus.IMMOBILIZED,
    }
)


class RacingEnv(gym.Env[Any, Any]):
    """AWS DeepRacer time trial on one world.

    Args:
        config: An :class:`EnvConfig`, a mapping validated into one, or None for the
            defaults. The env never changes after construction.
        reward_function: A Python callable used instead of ``config.reward``.
        render_mode: ``"rgb_array"``: :meth:`render` returns the top-down view;
            None (the default): it returns None.

    ``info`` of every reset/step holds ``params`` (the reward function's input),
    ``episode_status``, ``reward``, ``episode_index`` (0-based count since the last seeded
    reset), ``action`` (the simtrace label), ``closest_waypoint``, ``sim_time``,
    ``reset_count``, ``speed``, ``lap_count``, ``obstacle_crash_counter`` (the
    simtrace column; crashes into obstacles this episode, or with ``mercy_reset`` the
    simapp's count of resets in a row near one obstacle) and ``passes`` (bot cars
    overtaken this episode, less those that got ahead again); a lap-completing step adds
    ``lap_time``, a crash ``crashed_object`` (the simapp's name, ``obstacle_<i>`` or
    ``bot_car_<i>``).

    Example:
        >>> import gymnasium as gym
        >>> import deepracer
        >>> env = gym.make("DeepRacer/TimeTrial-v0", config={"world": "oval"})
        >>> obs, info = env.reset(seed=0)
        >>> info["episode_status"], info["params"]["steps"]
        ('prepare', 1)
        >>> obs, reward, terminated, truncated, info = env.step(2)
        >>> info["params"]["steps"], info["episode_status"]
        (2, 'in_progress')
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}  # noqa: RUF012 (gymnasium's API)

    def __init__(
        self,
        config: EnvConfig | Mapping[str, Any] | None = None,
        *,
        reward_function: Callable[[dict[str, Any]], Any] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not supported; valid: None,"
                f" {', '.join(map(repr, self.metadata['render_modes']))}"
            )
        self.render_mode = render_mode
        # This episode's model points, for render(); bounded so that a long episode
        # cannot grow it without end.
        self._trajectory: deque[tuple[float, float]] = deque(maxlen=_TRAJECTORY_POINTS)
        self._topdown: TopDownRenderer | None = None
        self.config = (
            EnvConfig() if config is None else from_mapping(EnvConfig, config, source="env config")
        )
        cfg = self.config
        self.world: WorldConfig = (
            cfg.world if isinstance(cfg.world, WorldConfig) else load_world(cfg.world)
        )
        self.vehicle: VehicleParams = vehicle_of(cfg, self.world)
        """The car: the config's or the world's vehicle profile (see ``EnvConfig.vehicle``)."""
        sanitize = not self.world.legacy_waypoints
        forward = get_track(self.world.track, sanitize=sanitize, reverse=self.world.reverse)
        self._tracks = {False: forward, True: forward.reversed()}
        self.track: Track = forward
        self.action_type = make_action_type(cfg.action_space)
        sensors = sensor_configs(cfg, self.world)
        self.observation_type = make_observation(cfg.observation, sensors)
        self._observation_reset = getattr(self.observation_type, "reset", None)
        self.action_space = self.action_type.space()
        self.observation_space = self.observation_type.space()
        self.reward_function = (
            RewardFunction(reward_function, name=getattr(reward_function, "__name__", "reward"))
            if reward_function is not None
            else load_reward_function(cfg.reward)
        )
        self._noise_rng: np.random.Generator | None = None
        self._image_rng: np.random.Generator | None = None
        self.variation = EpisodeVariation(friction=self.world.surface.friction)
        noise = self.world.noise
        self._noise_steer = noise.steering_std if noise.enabled else 0.0
        self._noise_speed = noise.speed_std if noise.enabled else 0.0
        self._episode = 0
        self._episode_index = 0
        self._state: CarState = rest_state(0.0, 0.0, 0.0)
        self._steps = 0
        self._status = EpisodeStatus.PREPARE
        self._done = True
        self._geometry_cache: tuple[CarState, Any] | None = None
        # The numba kernels when installed (read at construction, so tests can compare).
        self._kernels = _Kernels(self.vehicle) if accel.ENABLED else None
        self._state_kernel = self._kernels is not None and isinstance(
            self.observation_type, StateObservation
        )
        self._lookahead = np.asarray(cfg.state.lookahead, dtype=np.float64)
        self._init_objects()

    # -- gymnasium API ----------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts an episode with the simapp's prepare step.

        Args:
            seed: Seeds the noise and restarts the start-point round robin.
            options: ``{"start_ndist": float}`` places this episode's start point (a
                fraction of the track length) instead of the round robin;
                ``{"state": {"x", "y", "yaw", "speed", "steering"}}`` puts the car there (see
                :mod:`deepracer.envs.start_state`), its start point where it stands
                unless ``start_ndist`` is given too.

        Raises:
            ValueError: An unknown option, or a start state that is invalid or has no
                wheel on the road (the env is then as it was).
        """
        start = self.config.start
        options = options or {}
        unknown = set(options) - set(_RESET_OPTIONS)
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(unknown)}; valid: {list(_RESET_OPTIONS)}"
            )
        placed = None
        if "state" in options:  # checked before anything changes
            given = parse_start_state(options["state"], self.vehicle)
            episode = 0 if seed is not None or self._noise_rng is None else self._episode
            flip_next = start.alternate_direction and episode % 2 == 1
            placed = place_on(self._tracks[flip_next], given, self.vehicle)
        super().reset(seed=seed)
        if seed is not None or self._noise_rng is None:
            self._episode = 0
            # Action noise and image noise get their own streams, derived from the seed,
            # so drawing them in blocks (the vector env does) gives the same numbers.
            noise_seed, image_seed = self.np_random.integers(2**63, size=2)
            self._noise_rng = np.random.default_rng(int(noise_seed))
            self._image_rng = np.random.default_rng(int(image_seed))
        self.variation = draw_variation(self.world, self.np_random)
        self._episode_index = self._episode
        self._episode += 1
        flip = start.alternate_direction and self._episode_index % 2 == 1
        self.track = self._tracks[flip]
        if "start_ndist" in options:
            self._start_ndist = float(options["start_ndist"]) % 1.0
        elif placed is not None:  # the start point is where the car stands
            self._start_ndist = placed[1]
        else:
            advance = self._episode_index * start.round_robin_advance
            self._start_ndist = (start.offset + advance) % 1.0
        self._lay_out_objects(flip)
        if placed is not None:
            self._state = placed[0]
        else:
            if self._objects:
                # The lane away from an object within 1 m of the start point.
                start_dist = self._start_ndist * self.track.length
                x, y, yaw = training_start_pose(self.track, start_dist, self._objects)
            else:
                x, y, yaw = self.track.start_pose(self._start_ndist)
            back = self.vehicle.rear_axle_offset
            self._state = rest_state(x - back * math.cos(yaw), y - back * math.sin(yaw), yaw)
        self._steps = 1
        self._sim_time = 0.0
        self._reverse_count = 0
        self._still_count = 0
        self._resets_used = 0
        self._obstacle_crashes = 0
        rules = self.config.episode
        self._mercy: MercyReset | None = (
            MercyReset(rules.reset_ahead_dist, rules.max_resets_after_crash)
            if rules.mercy_reset
            else None
        )
        self._crashed: int | None = None
        self._lap_count = 0
        self._lap_start = 0.0
        self._status = EpisodeStatus.PREPARE
        self._done = False
        self._geometry_cache = None
        if self._observation_reset is not None:
            self._observation_reset(self.world, self.variation, self._image_rng)
        geometry = self._geometry()
        self._progress = compute_progress(geometry.where.ndist - self._start_ndist, 0.0)
        self._last_point = geometry.model_point
        self._passes = 0
        self._gaps = self._bot_gaps(geometry.where.s)
        params = self._params(geometry, steering_deg=0.0, speed=0.0, progress=self._progress)
        self._trajectory.clear()
        self._trajectory.append((params["x"], params["y"]))
        info = self._info(params, reward=0.0, action="0")
        return self._observe(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Judges the current pose with ``action``, then drives one step unless done."""
        if self._done:
            raise RuntimeError("the episode has ended: call reset() before step()")
        steering_deg, speed, label = self.action_type.to_command(action)
        vehicle = self.vehicle
        steering_deg = min(max(steering_deg, -vehicle.max_steering_deg), vehicle.max_steering_deg)
        speed = min(max(speed, vehicle.min_speed), vehicle.max_speed)
        self._steps += 1
        geometry = self._geometry()
        where = geometry.where
        progress = compute_progress(where.ndist - self._start_ndist, self._progress)
        params = self._params(geometry, steering_deg=steering_deg, speed=speed, progress=progress)
        self._trajectory.append((params["x"], params["y"]))
        self._status = status = self._judge(params, geometry.model_point, progress)
        if self._bot_cars is not None:
            self._count_passes(where.s)
        if status is EpisodeStatus.CRASHED:
            params["is_crashed"] = True
        self._progress = progress
        self._last_point = geometry.model_point
        reward = self.reward_function(params)
        episode = self.config.episode
        put_back = status in _RESETTABLE and self._resets_used < episode.resets
        terminated = status in _TERMINAL and not put_back
        lap_time = None
        if status is EpisodeStatus.LAP_COMPLETE:
            self._lap_count += 1
            lap_time = self._sim_time - self._lap_start
            self._lap_start = self._sim_time
            if self._lap_count < episode.laps:
                terminated = False
                # The next lap starts where the car is: the part of this step past the
                # line, so progress runs on smoothly from ~0 (and never looks reversed).
                self._progress = (100.0 * (where.ndist - self._start_ndist)) % 100.0
        truncated = not terminated and status is EpisodeStatus.TIME_UP
        info = self._info(params, reward=reward, action=label)
        if lap_time is not None:
            info["lap_time"] = lap_time
        if status is EpisodeStatus.CRASHED:
            assert self._crashed is not None  # set by _judge
            info["crashed_object"] = self._object_name(self._crashed)
        self._done = terminated or truncated
        if put_back:
            self._put_back(where, status)
            info["reset_count"] = self._resets_used
        elif not self._done:
            self._drive(math.radians(steering_deg), speed)
        return self._observe(), reward, terminated, truncated, info

    def _put_back(self, where: TrackPoint, status: EpisodeStatus) -> None:
        """Places the car on the nearest lane where it failed, at rest, after the penalty.

        As the simapp's reset rule: the lane is midway between the centre line and
        the border on the side the car was on, at the progress it had reached; the
        car faces along the track and stands still for ``reset_penalty`` seconds of
        simulated time (``collision_penalty`` after a crash; the clock runs, so the
        penalty lands in the lap time). With obstacles the simapp's rule for them
        applies (:func:`deepracer.envs.objects.reset_pose`); after running into a bot
        car the car stays where it is.
        """
        self._resets_used += 1
        episode = self.config.episode
        back = self.vehicle.rear_axle_offset
        crashed_bot = (
            status is EpisodeStatus.CRASHED
            and self._crashed is not None
            and (self._objects[self._crashed].kind == "bot_car")
        )
        if crashed_bot:
            x, y, yaw = self._state[:3]
            self._state = rest_state(x, y, yaw)
        else:
            if self._objects:
                origin = self._geometry().origin
                ox, oy, heading = reset_pose(
                    self.track,
                    where.s,
                    self._objects,
                    (origin[0], origin[1], self._state[2]),
                    reset_behind_dist=episode.reset_behind_dist,
                    mercy=self._mercy,
                )
            else:
                x, y, heading = self.track.pose_at(where.s)
                normal = heading + (math.pi / 2 if where.is_left_of_center else -math.pi / 2)
                offset = 0.25 * where.width  # half-way to the border
                ox, oy = x + offset * math.cos(normal), y + offset * math.sin(normal)
            self._state = rest_state(
                ox - back * math.cos(heading), oy - back * math.sin(heading), heading
            )
        penalty = (
            episode.collision_penalty if status is EpisodeStatus.CRASHED else episode.reset_penalty
        )
        self._sim_time += penalty
        if self._bot_cars is not None:  # the world goes on while the car waits
            self._set_objects(self._bot_cars.step(penalty))
        self._reverse_count = 0
        self._still_count = 0
        self._geometry_cache = None
        geometry = self._geometry()
        self._last_point = geometry.model_point
        # Progress continues from the new point (a few cm from where the car left).
        self._progress = compute_progress(geometry.where.ndist - self._start_ndist, self._progress)

    @property
    def car_state(self) -> CarState:
        """The car's physics state ``(x, y, yaw, speed, steering, steering_cmd, speed_cmd)``.

        The rear axle's pose and speed, the actual steering angle and the last command
        (m, rad, m/s); see :mod:`deepracer.physics.kinematic`.
        """
        return self._state

    # -- internals ----------------------------------------------------------------------

    def _drive(self, steer: float, speed: float) -> None:
        vehicle = self.vehicle
        rng = self._noise_rng
        assert rng is not None  # set by reset()
        if self._noise_steer:
            steer += self._noise_steer * float(rng.standard_normal())
        if self._noise_speed:
            speed += self._noise_speed * float(rng.standard_normal())
        steer = min(max(steer, -vehicle.max_steering), vehicle.max_steering)
        speed = min(max(speed, vehicle.min_speed), vehicle.max_speed) * self.variation.speed_scale
        if self._kernels is not None:
            self._state = self._kernels.drive(
                self._state, steer, speed, self.variation.friction, self.config.dt
            )
        else:
            self._state = step(
                self._state, steer, speed, vehicle, self.config.dt, self.variation.friction
            )
        self._sim_time += self.config.dt
        if self._bot_cars is not None:
            self._set_objects(self._bot_cars.step(self.config.dt))

    def _geometry(self) -> _Geometry:
        """Returns the geometry of the current pose, cached until the car moves."""
        cache = self._geometry_cache
        if cache is not None and cache[0] == self._state:
            return cache[1]  # type: ignore[no-any-return]
        if self._kernels is not None:
            result = self._kernels.geometry(self.track, self._state)
        else:
            x, y, yaw = self._state[:3]
            origin, model_point, wheels = car_points(x, y, yaw, self.vehicle)
            where = self.track.locate(model_point)
            on_road = self.track.on_road(wheels).tolist()
            result = _Geometry(origin, model_point, where, all(on_road), any(on_road))
        self._geometry_cache = (self._state, result)
        return result

    def _params(
        self,
        geometry: _Geometry,
        *,
        steering_deg: float,
        speed: float,
        progress: float,
    ) -> dict[str, Any]:
        model_point, where = geometry.model_point, geometry.where
        all_on, any_on = geometry.all_wheels_on_track, geometry.any_wheel_on_track
        heading = math.degrees(self._state[2])
        if heading <= -180.0:
            heading += 360.0
        params = build_params(
            track=self.track,
            where=where,
            model_point=model_point,
            heading_deg=heading,
            steering_deg=steering_deg,
            speed=speed,
            steps=self._steps,
            progress=progress,
            all_wheels_on_track=all_on,
            any_wheel_on_track=any_on,
            sim_time=self._sim_time,
        )
        if self._objects:
            origin = geometry.origin
            params.update(
                object_params(
                    self.track,
                    (origin[0], origin[1], self._state[2]),
                    self._objects,
                    bot_car_speed=self._bot_speed,
                    frustum=self._frustum,
                    model_point=model_point,
                )
            )
        return params

    def _judge(
        self, params: dict[str, Any], model_point: tuple[float, float], progress: float
    ) -> EpisodeStatus:
        episode = self.config.episode
        moved = math.hypot(
            model_point[0] - self._last_point[0], model_point[1] - self._last_point[1]
        )
        self._still_count = self._still_count + 1 if moved < episode.immobilized_distance else 0
        self._reverse_count = self._reverse_count + 1 if progress < self._progress else 0
        if params["is_offtrack"]:
            return EpisodeStatus.OFF_TRACK
        if progress >= 100.0:
            return EpisodeStatus.LAP_COMPLETE
        if self._objects and self._crash(progress):
            return EpisodeStatus.CRASHED
        if self._reverse_count >= episode.reverse_steps:
            return EpisodeStatus.REVERSED
        if self._still_count >= episode.immobilized_steps:
            return EpisodeStatus.IMMOBILIZED
        if self._steps >= episode.max_steps or (
            episode.time_limit is not None and self._sim_time >= episode.time_limit
        ):
            return EpisodeStatus.TIME_UP
        return EpisodeStatus.IN_PROGRESS

    def _info(self, params: dict[str, Any], *, reward: float, action: str) -> dict[str, Any]:
        prev, nxt = params["closest_waypoints"]
        x, y = params["x"], params["y"]
        wps = self.track.waypoints
        d_prev = math.hypot(x - wps[prev][0], y - wps[prev][1])
        d_next = math.hypot(x - wps[nxt][0], y - wps[nxt][1])
        return {
            "params": params,
            "episode_status": str(self._status),
            "reward": reward,
            "episode_index": self._episode_index,
            "action": action,
            "closest_waypoint": nxt if d_next < d_prev else prev,
            "sim_time": self._sim_time,
            "reset_count": self._resets_used,
            "speed": self._state[3],
            "lap_count": self._lap_count,
            # The simapp counts only under its mercy-reset flag (0 otherwise); without
            # it, this episode's crashes into obstacles say more.
            "obstacle_crash_counter": (
                self._obstacle_crashes if self._mercy is None else self._mercy.count
            ),
            "passes": self._passes,
        }

    # -- objects ------------------------------------------------------------------------

    def _init_objects(self) -> None:
        """Checks the world's objects fit its track and builds the bot cars."""
        world = self.world
        self._obstacle_config = world.obstacles
        self._bot_config = world.bot_cars
        self._bot_speed = None if self._bot_config is None else self._bot_config.bot_car_speed
        # Boxes that cannot fit at their minimum distance fail here, not at a reset.
        if self._obstacle_config is not None:
            place_obstacles(self._obstacle_config, self._tracks[False], np.random.default_rng(0))
        self._bots = (
            {flip: BotCars(self._bot_config, track) for flip, track in self._tracks.items()}
            if self._bot_config is not None
            else None
        )
        self._bot_cars: BotCars | None = None
        self._obstacles: tuple[SceneObject, ...] = ()
        self._objects: tuple[SceneObject, ...] = ()
        names = (
            (self.config.observation,)
            if isinstance(self.config.observation, str)
            else (self.config.observation)
        )
        # object_in_camera uses the simapp's frustum of the model's sensor.
        self._frustum = CameraFrustum(stereo="stereo_camera" in names)
        self._crashed = None
        self._obstacle_crashes = 0
        self._mercy = None

    @property
    def camera_frustum(self) -> CameraFrustum:
        """The simapp's frustum of the model's camera (``object_in_camera`` uses it)."""
        return self._frustum

    @property
    def objects(self) -> tuple[SceneObject, ...]:
        """The obstacles, then the bot cars, where they are now (empty in a time trial)."""
        return self._objects

    def _lay_out_objects(self, flip: bool) -> None:
        """Places this episode's obstacles and bot cars (the env's generator draws them)."""
        rng = self.np_random
        if self._obstacle_config is not None:
            placements = place_obstacles(self._obstacle_config, self.track, rng)
            self._obstacles = tuple(obstacle_objects(self._obstacle_config, placements))
        if self._bots is not None:
            self._bot_cars = self._bots[flip]
            self._set_objects(self._bot_cars.reset(rng))
        else:
            self._objects = self._obstacles

    def _set_objects(self, bot_cars: list[SceneObject]) -> None:
        self._objects = (*self._obstacles, *bot_cars)

    def _bot_gaps(self, s: float) -> list[float]:
        """Each bot car's centre-line distance ahead of ``s``, in (-L/2, L/2] [m]."""
        if self._bot_cars is None:
            return []
        length = self.track.length
        half = 0.5 * length
        count = self._bot_config.number_of_bot_cars if self._bot_config else 0
        return [half - (half - (self._bot_cars.distance(i) - s)) % length for i in range(count)]

    def _count_passes(self, s: float) -> None:
        """Counts bot cars the car overtook (less those that got ahead again) this step."""
        gaps = self._bot_gaps(s)
        near = 0.25 * self.track.length  # a gap jumping by half a lap is no pass
        for old, new in zip(self._gaps, gaps, strict=True):
            if abs(old) < near and abs(new) < near:
                if old > 0.0 >= new:
                    self._passes += 1
                elif old <= 0.0 < new:
                    self._passes -= 1
        self._gaps = gaps

    def _object_name(self, index: int) -> str:
        """The simapp's model name of object ``index`` (``obstacle_<i>``, ``bot_car_<i>``)."""
        count = len(self._obstacles)
        return f"obstacle_{index}" if index < count else f"bot_car_{index - count}"

    def _crash(self, progress: float) -> bool:
        """Whether the car crashed this step, by the simapp's rules (see the module doc).

        A bot car that ran into the car from behind stops the bot cars instead.
        """
        origin = self._geometry().origin
        hit = collided_object((origin[0], origin[1], self._state[2]), self._objects)
        if hit is None:
            return False
        obj = self._objects[hit]
        if obj.kind == "bot_car":
            assert self._bot_cars is not None
            bot = bot_car_progress(self.track, (obj.x, obj.y, obj.heading))
            outcome = bot_collision_outcome(progress, self._start_ndist, bot)
            if outcome != "car":
                if outcome == "bot_car":
                    self._bot_cars.penalize()
                return False
        else:
            self._obstacle_crashes += 1
        self._crashed = hit
        return True

    def car_view(self) -> CarView:
        """The car as observations see it now: any observation type can be fed it."""
        geometry = self._geometry()
        x, y, yaw, v, steering, steering_cmd, _ = self._state
        return CarView(
            track=self.track,
            x=x,
            y=y,
            yaw=yaw,
            speed=v,
            steering=steering,
            steering_cmd=steering_cmd,
            origin=geometry.origin,
            where=geometry.where,
            vehicle=self.vehicle,
            objects=self._objects,
        )

    def _observe(self) -> Any:
        if self._state_kernel:
            assert self._kernels is not None
            self._geometry()  # the kernels read the pose it located
            head = 6 if self.config.state.steering_command else 5
            row = self._kernels.observe_state(self.track, self._lookahead, head)
            assert isinstance(self.observation_type, StateObservation)
            slots = self.observation_type.object_slots
            if slots:
                extra = np.asarray(object_features(self.car_view(), slots), dtype=np.float32)
                return np.concatenate([row, extra])  # object_features clips
            return row
        return self.observation_type.observe(self.car_view())

    # -- rendering ----------------------------------------------------------------------

    def render(self) -> NDArray[np.uint8] | None:
        """Returns the top-down view for ``render_mode="rgb_array"``, else None.

        The frame, (480, 640, 3) uint8 RGB, shows the track, this episode's path of the
        model point, the obstacles and bot cars, and the car (see
        :class:`deepracer.rendering.topdown.TopDownRenderer`).
        """
        if self.render_mode != "rgb_array":
            return None
        if self._topdown is None:
            # Built on first use: pre-rendering the track takes a few tenths of a second.
            # Both driving directions have the same geometry, so one renderer serves both.
            self._topdown = TopDownRenderer(
                self.track, rear_axle_offset=self.vehicle.rear_axle_offset
            )
        # The path ends at the current model point, where the car is now.
        path = [*self._trajectory, self._geometry().model_point]
        return self._topdown.frame(self._state, path, objects=self._objects)


def _race_env(
    race_type: str,
    default_world: str,
    config: EnvConfig | Mapping[str, Any] | None,
    kwargs: dict[str, Any],
) -> RacingEnv:
    """A RacingEnv whose world must be of ``race_type`` (``default_world`` if none given)."""
    if config is None:
        config = EnvConfig(world=default_world)
    elif not isinstance(config, EnvConfig) and "world" not in config:
        config = {**config, "world": default_world}
    env = RacingEnv(config, **kwargs)
    if env.world.race_type != race_type:
        raise ConfigError(
            f"world {env.world.name!r} is a {env.world.race_type} world; this env id needs"
            f" race_type {race_type} (shipped: {default_world!r})"
        )
    return env


def object_avoidance_env(
    config: EnvConfig | Mapping[str, Any] | None = None, **kwargs: Any
) -> RacingEnv:
    """``DeepRacer/ObjectAvoidance-v0``: a RacingEnv with boxes on the track.

    The default world is ``reinvent_object_avoidance``; ``kwargs`` go to RacingEnv.

    Raises:
        ConfigError: The config's world is not an ``OBJECT_AVOIDANCE`` world.
    """
    return _race_env("OBJECT_AVOIDANCE", "reinvent_object_avoidance", config, kwargs)


def head_to_bot_env(
    config: EnvConfig | Mapping[str, Any] | None = None, **kwargs: Any
) -> RacingEnv:
    """``DeepRacer/HeadToBot-v0``: a RacingEnv with bot cars on the track.

    The default world is ``reinvent_head_to_bot``; ``kwargs`` go to RacingEnv.

    Raises:
        ConfigError: The config's world is not a ``HEAD_TO_BOT`` world.
    """
    return _race_env("HEAD_TO_BOT", "reinvent_head_to_bot", config, kwargs)
