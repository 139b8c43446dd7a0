"""N cars stepped in one call: the vectorised DeepRacer environment.

:class:`RacingVectorEnv` is a gymnasium ``VectorEnv`` whose sub-environments behave
exactly like independent :class:`~deepracer.envs.RacingEnv` instances seeded with
``seed + i`` (same start points, noise, statuses and rewards, to floating-point
rounding), but the physics, the track geometry and the state observation run as
numpy batches, so thousands of cars cost little more than one.

Cars are spread over the listed worlds (car i drives ``worlds[i % len(worlds)]``),
several tracks in one batch. Episodes reset automatically in gymnasium's
``NEXT_STEP`` mode: the step after a car's episode ends returns that car's reset
observation (reward 0, not done) and ignores its action.

Rewards: by default the reward function is called once per car with the exact
``params`` dict of the single env. A reward file may also define
``reward_function_batch(params)``: it receives the same keys holding arrays over
the cars (``closest_waypoints`` is (N, 2); ``waypoints`` is a list of (M, 2) arrays,
one per car; object keys are empty (N, 0) arrays) and returns an array of N rewards.
It is used when present (or when passed as ``reward_function_batch``), which removes
the per-car Python call.

Info keys (arrays over cars): ``episode_status``, ``episode_index``, ``sim_time``,
``reward`` and the scalar params ``x, y, heading, progress, steps, speed,
steering_angle, distance_from_center, track_width, all_wheels_on_track,
is_offtrack, is_left_of_center, is_reversed``, plus ``closest_waypoints`` (N, 2).

Contents:
    RacingVectorEnv: the vectorised environment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from deepracer import accel
from deepracer.config.loader import from_mapping
from deepracer.envs.action import ContinuousActions, DiscreteActions, make_action_type
from deepracer.envs.config import EnvConfig, vehicle_of
from deepracer.envs.observation import (
    CarView,
    EpisodeVariation,
    LidarObservation,
    SensorConfigs,
    StateObservation,
    make_observation,
)
from deepracer.envs.start_state import parse_start_state, place_on
from deepracer.envs.world import WorldConfig, load_world
from deepracer.errors import ConfigError, RewardFunctionError
from deepracer.physics import STATE_SIZE, CarState, VehicleParams, rest_state, step_batch
from deepracer.rewards import REWARD_LIMIT, RewardFunction, load_reward_function
from deepracer.rewards.loader import interrupted_since, sigint_count
from deepracer.rewards.params import build_params
from deepracer.tracks import Track, TrackPoint, get_track

__all__ = ["RacingVectorEnv"]

FloatArray = NDArray[np.float64]

_STATUS_NAMES = np.array(
    [
        "in_progress",
        "off_track",
        "lap_complete",
        "reversed",
        "immobilized",
        "time_up",
        "prepare",
    ],
    dtype=object,
)
_IN_PROGRESS, _OFF_TRACK, _LAP, _REVERSED, _IMMOBILIZED, _TIME_UP, _PREPARE = range(7)
_NOISE_BLOCK = 256  # normals drawn per car at a time; the stream is the same as one by one
_UNIFORM_BLOCK = 7 * 32  # episode-randomisation uniforms per car at a time (7 per reset)


class RacingVectorEnv(VectorEnv[Any, Any, Any]):
    """``num_envs`` DeepRacer cars stepped together.

    Args:
        num_envs: Number of cars.
        config: Shared env settings (an :class:`EnvConfig` or a mapping).
        worlds: Worlds to spread the cars over; defaults to ``[config.world]``.
        reward_function: A per-car callable used instead of ``config.reward``.
        reward_function_batch: A batched reward (see the module docstring).

    Example:
        >>> env = RacingVectorEnv(4, {"world": "oval"})
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, list(info["episode_status"])
        ((4, 15), ['prepare', 'prepare', 'prepare', 'prepare'])
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012 (gymnasium's API)

    def __init__(
        self,
        num_envs: int,
        config: EnvConfig | Mapping[str, Any] | None = None,
        *,
        worlds: Sequence[str | WorldConfig] | None = None,
        reward_function: Callable[[dict[str, Any]], Any] | None = None,
        reward_function_batch: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.config = (
            EnvConfig() if config is None else from_mapping(EnvConfig, config, source="env config")
        )
        cfg = self.config
        if cfg.episode.resets:
            raise ConfigError(
                "episode.resets: putting cars back after a failure is an evaluation rule of"
                " RacingEnv; the vectorised env ends every failed episode"
            )
        if cfg.episode.laps != 1:
            raise ConfigError(
                f"episode.laps: {cfg.episode.laps} continuous laps are an evaluation rule of"
                " RacingEnv; the vectorised env ends every episode at its first lap (use 1)"
            )
        self.num_envs = num_envs
        n = num_envs
        listed = list(worlds) if worlds is not None else [cfg.world]
        self.worlds = [w if isinstance(w, WorldConfig) else load_world(w) for w in listed]
        with_objects = [w.name for w in self.worlds if w.race_type != "TIME_TRIAL"]
        if with_objects:
            raise ConfigError(
                f"worlds: {', '.join(with_objects)} have obstacles or bot cars, which the"
                " vectorised env does not simulate; run RacingEnv per car (gym.make_vec(id,"
                " num_envs, vectorization_mode='sync'))"
            )
        cars_of = [vehicle_of(cfg, w) for w in self.worlds]
        if any(v != cars_of[0] for v in cars_of):
            names = ", ".join(f"{w.name} ({w.vehicle or 'default'})" for w in self.worlds)
            raise ConfigError(
                f"worlds: {names} drive different vehicles; one vector env drives one car"
                " (set env.vehicle in the experiment to choose it)"
            )
        self.vehicle: VehicleParams = cars_of[0]
        """The car every sub-environment drives (see ``EnvConfig.vehicle``)."""
        # Track objects: index 2*w is world w forwards, 2*w + 1 reversed.
        self.tracks: list[Track] = []
        for world in self.worlds:
            forward = get_track(
                world.track, sanitize=not world.legacy_waypoints, reverse=world.reverse
            )
            self.tracks += [forward, forward.reversed()]
        self._world_of = np.arange(n) % len(self.worlds)
        self.action_type = make_action_type(cfg.action_space)
        sensors = SensorConfigs(state=cfg.state, lidar=cfg.lidar, camera=cfg.camera)
        self.observation_type = make_observation(cfg.observation, sensors)
        self._observation_reset = getattr(self.observation_type, "reset", None)
        # Observations with per-episode state (camera lighting, noise, frame stacks)
        # need one instance per car; stateless ones are shared.
        self._car_observations = (
            [make_observation(cfg.observation, sensors) for _ in range(num_envs)]
            if self._observation_reset is not None
            else []
        )
        self.single_action_space = self.action_type.space()
        self.single_observation_space = self.observation_type.space()
        self.action_space = batch_space(self.single_action_space, n)
        self.observation_space = batch_space(self.single_observation_space, n)
        self.render_mode = None
        if reward_function is not None:
            name = getattr(reward_function, "__name__", "reward")
            self.reward_function: RewardFunction | None = RewardFunction(reward_function, name=name)
            self._reward_name = name
        else:
            self.reward_function = load_reward_function(cfg.reward)
            self._reward_name = self.reward_function.name
            if reward_function_batch is None:
                reward_function_batch = self.reward_function.batch_function
            else:
                self._reward_name = getattr(reward_function_batch, "__name__", "reward")
        self.reward_function_batch = reward_function_batch
        self._init_action_tables()
        noise = [w.noise for w in self.worlds]
        self._noise_steer = np.array([x.steering_std if x.enabled else 0.0 for x in noise])[
            self._world_of
        ]
        self._noise_speed = np.array([x.speed_std if x.enabled else 0.0 for x in noise])[
            self._world_of
        ]
        self._state = np.zeros((n, STATE_SIZE))
        self._steps = np.zeros(n, dtype=np.int64)
        self._sim_time = np.zeros(n)
        self._start_ndist = np.zeros(n)
        self._progress = np.zeros(n)
        self._reverse_count = np.zeros(n, dtype=np.int64)
        self._still_count = np.zeros(n, dtype=np.int64)
        self._last_point = np.zeros((n, 2))
        self._episode = np.zeros(n, dtype=np.int64)
        self._episode_index = np.zeros(n, dtype=np.int64)
        self._track_of = 2 * self._world_of
        self._friction = np.array([self.worlds[w].surface.friction for w in self._world_of])
        self._speed_scale = np.ones(n)
        self._autoreset = np.zeros(n, dtype=bool)
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._noise_rngs: list[np.random.Generator | None] = [None] * n
        self._image_rngs: list[np.random.Generator | None] = [None] * n
        self._uniform_buf = np.zeros((n, _UNIFORM_BLOCK))
        self._uniform_ptr = np.full(n, _UNIFORM_BLOCK, dtype=np.int64)
        self._start_poses: dict[tuple[int, float], tuple[float, float, float]] = {}
        rand = [w.randomization for w in self.worlds]
        self._ranges = {
            "friction": np.array([w.surface.friction for w in self.worlds]),
            "friction_scale": np.array([x.friction_scale for x in rand]),
            "battery": np.array([x.battery for x in rand]),
            "brightness": np.array([x.brightness for x in rand]),
            "contrast": np.array([x.contrast for x in rand]),
            "gamma": np.array([x.gamma for x in rand]),
            "camera_height": np.array([x.camera_height_jitter for x in rand]),
            "camera_pitch": np.array([x.camera_pitch_jitter_deg for x in rand]),
        }
        self._noise_buf = np.zeros((n, _NOISE_BLOCK))
        self._noise_ptr = np.full(n, _NOISE_BLOCK, dtype=np.int64)
        self._geometry: dict[str, Any] = {}
        # numba kernels when installed (read at construction, so tests can compare)
        self._compiled = accel.ENABLED
        self._group_key = b""
        self._waypoints_cache: list[FloatArray] | None = None
        self._track_lengths = np.array([t.length for t in self.tracks])
        self._track_reversed = np.array([t.reverse for t in self.tracks])
        self._group_cache: list[tuple[int, NDArray[np.int64]]] = []
        self._started = False

    # -- gymnasium API ----------------------------------------------------------------

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Resets every car; ``seed`` may be one int (car i gets ``seed + i``) or a list.

        Args:
            seed: Seeds as for ``SyncVectorEnv``.
            options: ``{"start_ndist": float}`` for every car; ``{"state": ...}`` as
                :meth:`RacingEnv.reset <deepracer.envs.RacingEnv.reset>` takes it, one
                state for every car or a list of one per car.

        Raises:
            ValueError: As RacingEnv's reset, naming the car of a bad state.
        """
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"expected {n} seeds, got {len(seeds)}")
        self._autoreset[:] = False
        self._reset_cars(np.arange(n), seeds, options or {})
        self._started = True
        return self._observe(), self._infos(np.zeros(n), np.full(n, _PREPARE))

    def step(self, actions: Any) -> tuple[Any, FloatArray, Any, Any, dict[str, Any]]:
        """Steps every car; cars whose episode ended last step are reset instead."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        n = self.num_envs
        resetting = self._autoreset.copy()
        active = ~resetting
        steer_deg, speed = self._commands(actions)
        status = np.full(n, _PREPARE)
        rewards = np.zeros(n)
        if active.any():
            self._steps[active] += 1
            progress = self._compute_progress()
            status[active] = self._judge(progress)[active]
            self._progress[active] = progress[active]
            geometry = self._geometry
            self._last_point[active, 0] = geometry["mx"][active]
            self._last_point[active, 1] = geometry["my"][active]
            rewards[active] = self._rewards(active, steer_deg, speed)
        terminated = active & np.isin(status, (_OFF_TRACK, _LAP, _REVERSED, _IMMOBILIZED))
        truncated = active & (status == _TIME_UP)
        done = terminated | truncated
        info = self._infos(rewards, status, steer_deg=steer_deg, speed=speed)
        drive = active & ~done
        if drive.any():
            self._drive(drive, np.radians(steer_deg), speed)
        self._autoreset = done
        if resetting.any():
            self._reset_cars(np.flatnonzero(resetting), [None] * int(resetting.sum()), {})
        else:
            self._locate()
        if resetting.any():
            reset_info = self._infos(np.zeros(n), np.full(n, _PREPARE))
            for key, value in reset_info.items():
                info[key][resetting] = value[resetting]
        return self._observe(), rewards, terminated, truncated, info

    # -- per-car reset, mirroring RacingEnv.reset -------------------------------------

    def _reset_cars(
        self, cars: NDArray[np.intp], seeds: Sequence[int | None], options: Mapping[str, Any]
    ) -> None:
        start_cfg = self.config.start
        back = self.vehicle.rear_axle_offset
        unknown = set(options) - {"start_ndist", "state"}
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(unknown)}; valid: ['start_ndist', 'state']"
            )
        placed = self._start_states(cars, seeds, options["state"]) if "state" in options else None
        for i, seed in zip(cars.tolist(), seeds, strict=True):
            if seed is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(seed)
            if seed is not None or self._noise_rngs[i] is None:
                rng = self._rngs[i]
                assert rng is not None
                self._episode[i] = 0
                noise_seed, image_seed = rng.integers(2**63, size=2)
                self._noise_rngs[i] = np.random.default_rng(int(noise_seed))
                self._image_rngs[i] = np.random.default_rng(int(image_seed))
                self._noise_ptr[i] = _NOISE_BLOCK  # refill from the new streams
                self._uniform_ptr[i] = _UNIFORM_BLOCK
        # The episode draws of draw_variation, vectorised: 7 uniforms per reset, taken
        # from per-car blocks of the same stream.
        u = self._take_uniforms(cars)
        w = self._world_of[cars]
        r = self._ranges
        friction = r["friction"][w] * _pick(r["friction_scale"][w], u[:, 0])
        self._friction[cars] = friction
        self._speed_scale[cars] = _pick(r["battery"][w], u[:, 1])
        index = self._episode[cars].copy()
        self._episode_index[cars] = index
        self._episode[cars] += 1
        flip = start_cfg.alternate_direction & (index % 2 == 1)
        self._track_of[cars] = 2 * w + flip.astype(np.int64)
        if "start_ndist" in options:
            starts = np.full(len(cars), float(options["start_ndist"]) % 1.0)
        elif placed is not None:  # each start point is where its car stands
            starts = np.array([ndist for _, ndist in placed])
        else:
            starts = (start_cfg.offset + index * start_cfg.round_robin_advance) % 1.0
        self._start_ndist[cars] = starts
        for k, i in enumerate(cars.tolist()):
            if placed is not None:
                self._state[i] = placed[k][0]
                continue
            x, y, yaw = self._start_pose(int(self._track_of[i]), float(starts[k]))
            self._state[i] = rest_state(x - back * math.cos(yaw), y - back * math.sin(yaw), yaw)
        self._steps[cars] = 1
        self._sim_time[cars] = 0.0
        self._reverse_count[cars] = 0
        self._still_count[cars] = 0
        self._locate()
        geometry = self._geometry
        delta = geometry["ndist"][cars] - self._start_ndist[cars]
        self._progress[cars] = _progress(delta, np.zeros(len(cars)))
        self._last_point[cars, 0] = geometry["mx"][cars]
        self._last_point[cars, 1] = geometry["my"][cars]
        if self._observation_reset is not None:
            height = r["camera_height"][w] * (2.0 * u[:, 5] - 1.0)
            pitch = r["camera_pitch"][w] * (2.0 * u[:, 6] - 1.0)
            for k, i in enumerate(cars.tolist()):
                variation = EpisodeVariation(
                    friction=float(friction[k]),
                    speed_scale=float(self._speed_scale[i]),
                    brightness=float(_pick(r["brightness"][w[k]], u[k, 2])),
                    contrast=float(_pick(r["contrast"][w[k]], u[k, 3])),
                    gamma=float(_pick(r["gamma"][w[k]], u[k, 4])),
                    camera_height_offset=float(height[k]),
                    camera_pitch_offset_deg=float(pitch[k]),
                )
                car_obs: Any = self._car_observations[i]
                car_obs.reset(self.worlds[self._world_of[i]], variation, self._image_rngs[i])

    def _start_states(
        self, cars: NDArray[np.intp], seeds: Sequence[int | None], value: Any
    ) -> list[tuple[CarState, float]]:
        """Checks the ``state`` option for ``cars`` before anything changes.

        Returns each car's physics state and start point (see ``place_on``).
        """
        vehicle = self.vehicle
        per_car = (
            list(value) if isinstance(value, Sequence) and not isinstance(value, str) else None
        )
        if per_car is not None and len(per_car) != len(cars):
            raise ValueError(
                f"reset option 'state': expected one state or {len(cars)}, got {len(per_car)}"
            )
        out: list[tuple[CarState, float]] = []
        for k, (i, seed) in enumerate(zip(cars.tolist(), seeds, strict=True)):
            fresh = seed is not None or self._noise_rngs[i] is None
            episode = 0 if fresh else int(self._episode[i])
            flip = self.config.start.alternate_direction and episode % 2 == 1
            track = self.tracks[2 * int(self._world_of[i]) + int(flip)]
            try:
                given = parse_start_state(per_car[k] if per_car is not None else value, vehicle)
                out.append(place_on(track, given, vehicle))
            except ValueError as exc:
                raise ValueError(f"car {i}: {exc}") from None
        return out

    def _take_uniforms(self, cars: NDArray[np.intp]) -> FloatArray:
        """Returns the next 7 uniforms of each car's episode stream."""
        ptr = self._uniform_ptr
        for i in cars[ptr[cars] >= _UNIFORM_BLOCK].tolist():
            rng = self._rngs[i]
            assert rng is not None
            self._uniform_buf[i] = rng.random(_UNIFORM_BLOCK)
            ptr[i] = 0
        cols = ptr[cars][:, None] + np.arange(7)
        ptr[cars] += 7
        return np.asarray(self._uniform_buf[cars[:, None], cols])

    def _start_pose(self, track: int, ndist: float) -> tuple[float, float, float]:
        key = (track, ndist)
        pose = self._start_poses.get(key)
        if pose is None:
            pose = self._start_poses[key] = self.tracks[track].start_pose(ndist)
        return pose

    # -- the batched step ---------------------------------------------------------------

    def _init_action_tables(self) -> None:
        action_type = self.action_type
        if isinstance(action_type, DiscreteActions):
            table = np.array(action_type.actions)
            self._steer_table, self._speed_table = table[:, 0], table[:, 1]
        elif isinstance(action_type, ContinuousActions):
            self._steer_range = action_type.steering
            self._speed_range = action_type.speed

    def _commands(self, actions: Any) -> tuple[FloatArray, FloatArray]:
        vehicle = self.vehicle
        if isinstance(self.action_type, DiscreteActions):
            index = np.asarray(actions, dtype=np.intp).reshape(self.num_envs)
            steer, speed = self._steer_table[index], self._speed_table[index]
        else:
            a = np.clip(np.asarray(actions, dtype=np.float64).reshape(self.num_envs, 2), -1, 1)
            lo_s, hi_s = self._steer_range
            lo_v, hi_v = self._speed_range
            steer = lo_s + 0.5 * (a[:, 0] + 1.0) * (hi_s - lo_s)
            speed = lo_v + 0.5 * (a[:, 1] + 1.0) * (hi_v - lo_v)
        steer = np.clip(steer, -vehicle.max_steering_deg, vehicle.max_steering_deg)
        speed = np.clip(speed, vehicle.min_speed, vehicle.max_speed)
        return steer, speed

    def _locate(self) -> None:
        """Computes the geometry of every car's current pose."""
        if self._compiled:
            self._locate_compiled()
            return
        vehicle = self.vehicle
        x, y, yaw = self._state[:, 0], self._state[:, 1], self._state[:, 2]
        c, s = np.cos(yaw), np.sin(yaw)
        ox = x + vehicle.rear_axle_offset * c
        oy = y + vehicle.rear_axle_offset * s
        mx = ox + vehicle.model_point_offset * c
        my = oy + vehicle.model_point_offset * s
        fx = x + vehicle.wheelbase * c
        fy = y + vehicle.wheelbase * s
        hr, hf = 0.5 * vehicle.track_rear, 0.5 * vehicle.track_front
        wheels_x = np.stack([x - hr * s, fx - hf * s, x + hr * s, fx + hf * s], axis=1)
        wheels_y = np.stack([y + hr * c, fy + hf * c, y - hr * c, fy - hf * c], axis=1)
        n = self.num_envs
        # The track columns of the kernels' output (the pose columns are computed here).
        fields = {k: np.zeros(n) for k in accel.GEOMETRY_FLOATS[:8]}
        prev = np.zeros(n, dtype=np.intp)
        nxt = np.zeros(n, dtype=np.intp)
        left = np.zeros(n, dtype=bool)
        on_road = np.zeros((n, 4), dtype=bool)
        for t in np.unique(self._track_of).tolist():
            cars = np.flatnonzero(self._track_of == t)
            track = self.tracks[t]
            where = track.locate_batch(mx[cars], my[cars])
            for k in fields:
                fields[k][cars] = where[k]
            prev[cars] = where["prev_index"]
            nxt[cars] = where["next_index"]
            left[cars] = where["is_left_of_center"]
            on = track.on_road_batch(wheels_x[cars].reshape(-1), wheels_y[cars].reshape(-1))
            on_road[cars] = on.reshape(-1, 4)
        self._geometry = {
            **fields,
            "prev_index": prev,
            "next_index": nxt,
            "is_left_of_center": left,
            "ox": ox,
            "oy": oy,
            "mx": mx,
            "my": my,
            "all_wheels_on_track": on_road.all(axis=1),
            "is_offtrack": ~on_road.any(axis=1),
        }

    def _locate_compiled(self) -> None:
        n = self.num_envs
        out_f = np.empty((n, len(accel.GEOMETRY_FLOATS)))
        out_i = np.empty((n, 3), dtype=np.int64)
        out_b = np.empty((n, 3), dtype=np.bool_)
        for t, cars in self._groups():
            pack = accel.pack_track(self.tracks[t])
            accel.locate_cars(pack, cars, self._state, self.vehicle, out_f, out_i, out_b)
        geometry: dict[str, Any] = {k: out_f[:, j] for j, k in enumerate(accel.GEOMETRY_FLOATS)}
        geometry.update(
            prev_index=out_i[:, 0],
            next_index=out_i[:, 1],
            is_left_of_center=out_b[:, 0],
            all_wheels_on_track=out_b[:, 1],
            is_offtrack=out_b[:, 2],
            floats=out_f,
            segment=out_i[:, 2],
        )
        self._geometry = geometry

    def _waypoint_list(self) -> list[FloatArray]:
        """Each car's centre line (shared read-only arrays), cached with the groups."""
        self._groups()
        cache = self._waypoints_cache
        if cache is None:
            cache = [self.tracks[t].center.points for t in self._track_of.tolist()]
            self._waypoints_cache = cache
        return cache

    def _groups(self) -> list[tuple[int, NDArray[np.int64]]]:
        """Returns ``(track index, cars on it)`` pairs, cached until tracks change."""
        key = self._track_of.tobytes()
        if self._group_key != key:
            self._group_cache = [
                (t, np.flatnonzero(self._track_of == t).astype(np.int64))
                for t in np.unique(self._track_of).tolist()
            ]
            self._group_key = key
            self._waypoints_cache = None
        return self._group_cache

    def _compute_progress(self) -> FloatArray:
        return _progress(self._geometry["ndist"] - self._start_ndist, self._progress)

    def _judge(self, progress: FloatArray) -> NDArray[np.int64]:
        episode = self.config.episode
        g = self._geometry
        moved = np.hypot(g["mx"] - self._last_point[:, 0], g["my"] - self._last_point[:, 1])
        still = moved < episode.immobilized_distance
        active = ~self._autoreset
        self._still_count = np.where(active, np.where(still, self._still_count + 1, 0), 0)
        backwards = progress < self._progress
        self._reverse_count = np.where(active, np.where(backwards, self._reverse_count + 1, 0), 0)
        time_up = self._steps >= episode.max_steps
        if episode.time_limit is not None:
            time_up |= self._sim_time >= episode.time_limit
        return np.select(
            [
                g["is_offtrack"],
                progress >= 100.0,
                self._reverse_count >= episode.reverse_steps,
                self._still_count >= episode.immobilized_steps,
                time_up,
            ],
            [_OFF_TRACK, _LAP, _REVERSED, _IMMOBILIZED, _TIME_UP],
            default=_IN_PROGRESS,
        )

    def _batch_params(self, steer_deg: FloatArray, speed: FloatArray) -> dict[str, Any]:
        g = self._geometry
        n = self.num_envs
        heading = np.degrees(self._state[:, 2])
        heading = np.where(heading <= -180.0, heading + 360.0, heading)
        track_of = self._track_of
        return {
            "all_wheels_on_track": g["all_wheels_on_track"],
            "x": g["mx"],
            "y": g["my"],
            "heading": heading,
            "distance_from_center": g["distance_from_center"],
            "projection_distance": g["s"],
            "progress": self._progress,
            "steps": self._steps,
            "speed": speed,
            "steering_angle": steer_deg,
            "track_width": g["width"],
            "track_length": self._track_lengths[track_of],
            "waypoints": self._waypoint_list(),
            "closest_waypoints": np.stack([g["prev_index"], g["next_index"]], axis=1),
            "is_left_of_center": g["is_left_of_center"],
            "is_reversed": self._track_reversed[track_of],
            "is_crashed": np.zeros(n, dtype=bool),
            "is_offtrack": g["is_offtrack"],
            "closest_objects": np.zeros((n, 2), dtype=np.int64),
            "objects_location": np.zeros((n, 0, 2)),
            "objects_left_of_center": np.zeros((n, 0), dtype=bool),
            "object_in_camera": np.zeros(n, dtype=bool),
            "objects_speed": np.zeros((n, 0)),
            "objects_heading": np.zeros((n, 0)),
            "objects_distance_from_center": np.zeros((n, 0)),
            "objects_distance": np.zeros((n, 0)),
            "sim_time": self._sim_time,
        }

    def _track_point(self, i: int) -> TrackPoint:
        """Car ``i``'s row of the batched geometry as a :class:`TrackPoint`."""
        g = self._geometry
        return TrackPoint(
            s=float(g["s"][i]),
            ndist=float(g["ndist"][i]),
            prev_index=int(g["prev_index"][i]),
            next_index=int(g["next_index"][i]),
            center=(float(g["center_x"][i]), float(g["center_y"][i])),
            distance_from_center=float(g["distance_from_center"][i]),
            distance_to_inner=float(g["distance_to_inner"][i]),
            distance_to_outer=float(g["distance_to_outer"][i]),
            width=float(g["width"][i]),
            is_left_of_center=bool(g["is_left_of_center"][i]),
        )

    def _car_params(self, i: int, steer_deg: float, speed: float) -> dict[str, Any]:
        g = self._geometry
        track = self.tracks[self._track_of[i]]
        where = self._track_point(i)
        heading = math.degrees(float(self._state[i, 2]))
        if heading <= -180.0:
            heading += 360.0
        return build_params(
            track=track,
            where=where,
            model_point=(float(g["mx"][i]), float(g["my"][i])),
            heading_deg=heading,
            steering_deg=steer_deg,
            speed=speed,
            steps=int(self._steps[i]),
            progress=float(self._progress[i]),
            all_wheels_on_track=bool(g["all_wheels_on_track"][i]),
            any_wheel_on_track=not bool(g["is_offtrack"][i]),
            sim_time=float(self._sim_time[i]),
        )

    def _rewards(self, active: NDArray[np.bool_], steer_deg: FloatArray, speed: FloatArray) -> Any:
        if self.reward_function_batch is not None:
            params = self._batch_params(steer_deg, speed)
            seen = sigint_count()
            try:
                values = np.asarray(self.reward_function_batch(params), dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise RewardFunctionError(
                    f"{self._reward_name}: reward_function_batch returned something that is not"
                    f" an array of numbers ({exc})"
                ) from exc
            except Exception as exc:
                raise RewardFunctionError(
                    f"{self._reward_name}: reward_function_batch raised {type(exc).__name__}: {exc}"
                ) from exc
            except (SystemExit, KeyboardInterrupt) as exc:
                if isinstance(exc, KeyboardInterrupt) and interrupted_since(seen):
                    raise
                raise RewardFunctionError(
                    f"{self._reward_name}: reward_function_batch raised {type(exc).__name__}"
                    " itself; it must return an array of rewards (exiting would end training"
                    " without a model)"
                ) from exc
            if values.shape != (self.num_envs,):
                raise RewardFunctionError(
                    f"{self._reward_name}: reward_function_batch returned shape {values.shape};"
                    f" expected ({self.num_envs},), one reward per car"
                )
            bad = active & ~(np.isfinite(values) & (np.abs(values) <= REWARD_LIMIT))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise RewardFunctionError(
                    f"{self._reward_name}: reward_function_batch returned {float(values[i])!r}"
                    f" for car {i} at step {self._steps[i]};"
                    " expected a finite number in [-1e5, 1e5]"
                )
            return values[active]
        reward = self.reward_function
        assert reward is not None
        return [
            reward(self._car_params(i, float(steer_deg[i]), float(speed[i])))
            for i in np.flatnonzero(active).tolist()
        ]

    def _drive(self, cars: NDArray[np.bool_], steer: FloatArray, speed: FloatArray) -> None:
        vehicle = self.vehicle
        idx = np.flatnonzero(cars)
        steer_noise = np.zeros(len(idx))
        speed_noise = np.zeros(len(idx))
        for std, out in ((self._noise_steer, steer_noise), (self._noise_speed, speed_noise)):
            uses = std[idx] > 0.0
            if not uses.any():
                continue
            users = idx[uses]
            self._refill_noise(users)
            out[uses] = self._noise_buf[users, self._noise_ptr[users]]
            self._noise_ptr[users] += 1
        s = np.clip(
            steer[idx] + self._noise_steer[idx] * steer_noise,
            -vehicle.max_steering,
            vehicle.max_steering,
        )
        v = (
            np.clip(
                speed[idx] + self._noise_speed[idx] * speed_noise,
                vehicle.min_speed,
                vehicle.max_speed,
            )
            * self._speed_scale[idx]
        )
        if self._compiled:
            accel.physics_step(
                idx.astype(np.int64),
                self._state,
                s,
                v,
                self._friction[idx],
                vehicle,
                self.config.dt,
            )
        else:
            self._state[idx] = step_batch(
                self._state[idx], s, v, vehicle, self.config.dt, self._friction[idx]
            )
        self._sim_time[idx] += self.config.dt

    def _refill_noise(self, cars: NDArray[np.intp]) -> None:
        empty = cars[self._noise_ptr[cars] >= _NOISE_BLOCK]
        for i in empty.tolist():
            rng = self._noise_rngs[i]
            assert rng is not None
            self._noise_buf[i] = rng.standard_normal(_NOISE_BLOCK)
            self._noise_ptr[i] = 0

    # -- observations and infos -------------------------------------------------------

    def _observe(self) -> Any:
        obs_type = self.observation_type
        if isinstance(obs_type, StateObservation):
            return self._observe_state(obs_type)
        if type(obs_type) is LidarObservation:
            return self._observe_lidar(obs_type)
        if self._car_observations:
            single = [o.observe(self._view(i)) for i, o in enumerate(self._car_observations)]
        else:
            single = [obs_type.observe(self._view(i)) for i in range(self.num_envs)]
        if isinstance(single[0], dict):
            return {k: np.stack([o[k] for o in single]) for k in single[0]}
        return np.stack(single)

    def _view(self, i: int) -> CarView:
        g = self._geometry
        x, y, yaw, v, steering, steering_cmd, _ = (float(a) for a in self._state[i])
        where = self._track_point(i)
        return CarView(
            track=self.tracks[self._track_of[i]],
            x=x,
            y=y,
            yaw=yaw,
            speed=v,
            steering=steering,
            steering_cmd=steering_cmd,
            origin=(float(g["ox"][i]), float(g["oy"][i])),
            where=where,
            vehicle=self.vehicle,
        )

    def _observe_state(self, obs_type: StateObservation) -> NDArray[np.float32]:
        if self._compiled:
            head = obs_type.head
            obs = np.empty((self.num_envs, head + 2 * len(obs_type.config.lookahead)), np.float32)
            lookahead = np.asarray(obs_type.config.lookahead, dtype=np.float64)
            for t, cars in self._groups():
                accel.state_observation(
                    accel.pack_track(self.tracks[t]),
                    cars,
                    self._state,
                    self._geometry["floats"],
                    self._geometry["segment"],
                    self._geometry["is_left_of_center"],
                    lookahead,
                    self.vehicle,
                    obs,
                    head,
                )
            return obs
        g = self._geometry
        vehicle = self.vehicle
        yaw = self._state[:, 2]
        half = np.maximum(0.5 * g["width"], 1e-3)
        lateral = np.where(g["is_left_of_center"], 1.0, -1.0) * g["distance_from_center"] / half
        lookahead = np.asarray(obs_type.config.lookahead)
        n = self.num_envs
        heading = np.zeros(n)
        ahead_x = np.zeros((n, len(lookahead)))
        ahead_y = np.zeros((n, len(lookahead)))
        for t in np.unique(self._track_of).tolist():
            cars = np.flatnonzero(self._track_of == t)
            track = self.tracks[t]
            s = g["s"][cars]
            heading[cars] = track.pose_at_batch(s)[2]
            px, py, _ = track.pose_at_batch(s[:, None] + lookahead[None, :])
            ahead_x[cars], ahead_y[cars] = px, py
        err = yaw - heading
        c, s_ = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
        mx = (g["ox"] + vehicle.model_point_offset * np.cos(yaw))[:, None]
        my = (g["oy"] + vehicle.model_point_offset * np.sin(yaw))[:, None]
        dx, dy = ahead_x - mx, ahead_y - my
        local = np.empty((n, len(lookahead), 2))
        local[:, :, 0] = (c * dx + s_ * dy) / lookahead
        local[:, :, 1] = (-s_ * dx + c * dy) / lookahead
        head = obs_type.head
        out = np.empty((n, head + 2 * len(lookahead)))
        out[:, 0] = self._state[:, 3] / vehicle.max_speed
        out[:, 1] = self._state[:, 4] / vehicle.max_steering
        out[:, 2] = lateral
        out[:, 3] = np.sin(err)
        out[:, 4] = np.cos(err)
        if head == 6:
            out[:, 5] = self._state[:, 5] / vehicle.max_steering
        out[:, head:] = local.reshape(n, -1)
        return np.clip(out, -3.0, 3.0).astype(np.float32)

    def _observe_lidar(self, obs_type: LidarObservation) -> NDArray[np.float32]:
        return np.stack([obs_type.observe(self._view(i)) for i in range(self.num_envs)])

    def _infos(
        self,
        rewards: FloatArray,
        status: NDArray[np.int64],
        *,
        steer_deg: FloatArray | None = None,
        speed: FloatArray | None = None,
    ) -> dict[str, Any]:
        g = self._geometry
        n = self.num_envs
        heading = np.degrees(self._state[:, 2])
        return {
            "episode_status": _STATUS_NAMES[status],
            "episode_index": self._episode_index.copy(),
            "sim_time": self._sim_time.copy(),
            "reward": rewards.copy(),
            "x": g["mx"].copy(),
            "y": g["my"].copy(),
            "heading": np.where(heading <= -180.0, heading + 360.0, heading),
            "progress": self._progress.copy(),
            "steps": self._steps.copy(),
            "speed": np.zeros(n) if speed is None else speed.copy(),
            "steering_angle": np.zeros(n) if steer_deg is None else steer_deg.copy(),
            "distance_from_center": g["distance_from_center"].copy(),
            "track_width": g["width"].copy(),
            "all_wheels_on_track": g["all_wheels_on_track"].copy(),
            "is_offtrack": g["is_offtrack"].copy(),
            "is_left_of_center": g["is_left_of_center"].copy(),
            "is_reversed": self._track_reversed[self._track_of],
            "closest_waypoints": np.stack([g["prev_index"], g["next_index"]], axis=1),
        }


def _pick(bounds: FloatArray, u: Any) -> Any:
    """``low + u * (high - low)`` for (K, 2) bounds, as draw_variation computes it."""
    bounds = np.asarray(bounds)
    return bounds[..., 0] + u * (bounds[..., 1] - bounds[..., 0])


def _progress(delta: FloatArray, prev: FloatArray) -> FloatArray:
    """Vectorised :func:`deepracer.rewards.params.compute_progress`."""
    p = 100.0 * delta
    p = np.where(p <= 0.0, p + 100.0, p)
    p = np.where(prev > p + 50.0, p + 100.0, p)
    p = np.where(p > prev + 50.0, p - 100.0, p)
    return np.asarray(np.minimum(p, 100.0))
