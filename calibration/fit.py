"""The fit: a Latin-hypercube design, then a bounded local optimiser, then a loss profile.

Every evaluation of a parameter vector runs the same replications ``0 .. R-1`` with the same
seed (common random numbers: the model's named random streams make replication ``r`` of any
parameter vector see the same draws wherever the parameters do not change them), on the
study executor (:func:`sim.experiment.executor.iter_results`: local process pool or Dask).

The loss is a weighted sum of squared standardised errors over the targets::

    loss = sum_i weight_i * ((simulated_i - observed_i) / tolerance_i) ** 2

with ``simulated_i`` the mean over replications.  A loss rise of 1 is one target moving by
one tolerance, which is the scale used for identifiability.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration.measures import Sites, needs_tables, target_values
from calibration.spec import (
    CalibrationError,
    Parameter,
    Target,
    apply_parameters,
    check_space,
    check_targets,
    declared_space,
    format_path,
    load_space,
    load_targets,
    resolve_file,
)

__all__ = ["Settings", "Evaluation", "FitResult", "fit", "base_config", "loss_of"]

#: loss contribution of a target the model cannot compute (NaN), in tolerance units squared.
NAN_PENALTY = 100.0
#: loss of a parameter vector whose replications failed or whose config is invalid.
FAIL_LOSS = 1e6


@dataclass
class Settings:
    """What ``calibration/config.yaml`` holds (see that file for each key's meaning)."""

    network: str = "toy"
    care: str = "default"
    overrides: list = field(default_factory=list)
    targets: str = "auto"
    space: str = "auto"
    design_points: int = 24
    replications: int = 1
    horizon_days: float = 56.0
    warmup_days: float = 14.0
    seed: int = 20261123
    iterations: int = 40
    optimiser: str = "nelder-mead"
    start: dict = field(default_factory=dict)
    initial_step: float = 0.15
    profile_offsets: list = field(default_factory=lambda: [0.1, 0.25])
    identify_threshold: float = 1.0
    jobs: int = 2
    executor: str = "local"
    address: str = ""
    #: where the CLI writes the report; the evaluation store lives here (empty = no store).
    output_dir: str = ""
    care_out: str = "auto"
    plot_js: str = "cdn"
    progress: bool = True
    #: "surrogate" (a quadratic response surface on the design, refined in ``rounds``; the
    #: cheap fit for a real-size county) or "direct" (the optimiser on the simulator itself).
    method: str = "surrogate"
    rounds: int = 4
    #: the check run at the optimum: replications (0 = none) and horizon (0 = the fit's).
    check_replications: int = 3
    check_horizon_days: float = 120.0
    check_warmup_days: float = 14.0
    #: reuse the evaluations stored in ``output_dir/evaluations.jsonl`` by an earlier,
    #: interrupted fit with the same settings (keyed by everything that changes a result).
    resume: bool = True

    @classmethod
    def from_mapping(cls, m: dict) -> Settings:
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(m) - known
        if extra:
            raise CalibrationError(f"calibration config: unknown key(s) {', '.join(sorted(extra))}")
        s = cls(**{k: v for k, v in m.items() if v is not None or k in ("start",)})
        s.validate()
        return s

    def validate(self) -> None:
        def chk(ok: bool, key: str, msg: str) -> None:
            if not ok:
                raise CalibrationError(f"calibration config: {key}: {msg}")

        chk(self.design_points >= 0, "design_points", f"must be >= 0, got {self.design_points}")
        chk(self.replications >= 1, "replications", f"must be >= 1, got {self.replications}")
        chk(self.iterations >= 0, "iterations", f"must be >= 0, got {self.iterations}")
        chk(self.horizon_days > self.warmup_days >= 0, "horizon_days",
            f"must exceed warmup_days ({self.warmup_days:g}), got {self.horizon_days:g}")
        chk(self.optimiser in ("nelder-mead", "powell"), "optimiser",
            f"must be nelder-mead or powell, got {self.optimiser!r}")
        chk(0 < self.initial_step <= 0.5, "initial_step", f"must be in (0, 0.5], got {self.initial_step}")
        chk(all(0 < float(o) <= 1 for o in self.profile_offsets), "profile_offsets", "must be in (0, 1]")
        chk(self.identify_threshold > 0, "identify_threshold", "must be > 0")
        chk(self.jobs >= 0, "jobs", f"must be >= 0 (0 = all cores), got {self.jobs}")
        chk(self.executor in ("local", "dask"), "executor", f"must be local or dask, got {self.executor!r}")
        chk(self.design_points + self.iterations >= 1 or bool(self.start), "design_points",
            "nothing to evaluate: give design_points, iterations or a start")
        chk(self.plot_js in ("cdn", "inline"), "plot_js", f"must be cdn or inline, got {self.plot_js!r}")
        chk(self.method in ("surrogate", "direct"), "method", f"must be surrogate or direct, got {self.method!r}")
        chk(self.rounds >= 0, "rounds", f"must be >= 0, got {self.rounds}")
        chk(self.check_replications >= 0, "check_replications", f"must be >= 0, got {self.check_replications}")
        chk(self.check_horizon_days >= 0 and self.check_warmup_days >= 0, "check_horizon_days",
            "check_horizon_days and check_warmup_days must be >= 0")
        if self.check_replications:
            ch = self.check_horizon_days or self.horizon_days
            cw = self.check_warmup_days or self.warmup_days
            chk(ch > cw, "check_horizon_days", f"must exceed the check warm-up ({cw:g}), got {ch:g}")

    @property
    def care_out_name(self) -> str:
        """``care_out`` with ``auto`` resolved: the network's own calibrated care option."""
        return f"{self.network}_calibrated" if self.care_out == "auto" else self.care_out

    @property
    def targets_name(self) -> str:
        """``targets`` with ``auto`` resolved: ``county_targets/<network>.yaml``."""
        return f"county_targets/{self.network}.yaml" if self.targets == "auto" else self.targets

    def checked(self) -> Settings:
        """The settings of the check run (its horizon and replications)."""
        return dataclasses.replace(self, replications=self.check_replications,
                                   horizon_days=self.check_horizon_days or self.horizon_days,
                                   warmup_days=self.check_warmup_days or self.warmup_days)


@dataclass
class Evaluation:
    """One evaluated parameter vector."""

    index: int
    phase: str
    unit: np.ndarray
    values: list[float]
    loss: float
    #: replications x targets simulated values.
    sims: np.ndarray
    error: str = ""

    @property
    def means(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.array([np.nanmean(c) if np.isfinite(c).any() else math.nan for c in self.sims.T])


def loss_of(means: Sequence[float | None] | np.ndarray, targets: Sequence[Target]) -> tuple[float, list[float]]:
    """The weighted squared loss and each target's contribution."""
    parts = []
    for m, t in zip(means, targets, strict=False):
        if m is None or not math.isfinite(m):
            parts.append(t.weight * NAN_PENALTY)
        else:
            parts.append(t.weight * ((m - t.value) / t.tolerance) ** 2)
    return float(sum(parts)), parts


def base_config(s: Settings, keep_patients: bool):
    """The scenario every evaluation starts from (composed once through Hydra)."""
    import sim

    overrides = [f"network={s.network}", f"care={s.care}", f"run.horizon_days={s.horizon_days}",
                 f"run.warmup_days={s.warmup_days}", f"run.replications={s.replications}",
                 f"run.seed={s.seed}", f"run.keep_patients={str(keep_patients).lower()}",
                 f"executor.kind={s.executor}", "scenario=calibration", *map(str, s.overrides)]
    if s.address:
        overrides.append(f"executor.address={s.address}")
    return sim.compose(overrides)


def run_key(base, targets: Sequence[Target], space: Sequence[Parameter]) -> str:
    """A hash of everything that changes an evaluation's result: the composed base scenario
    (network, care, horizon, replications, seed, overrides), the targets and the space."""
    import hashlib
    import json

    from sim.experiment.replication import config_hash

    blob = json.dumps({"base": config_hash(base),
                       "targets": [(t.name, t.metric, t.group, t.derived) for t in targets],
                       "space": [(p.name, p.path, p.lower, p.upper, p.transform, p.mode) for p in space]},
                      sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class Evaluator:
    """Runs parameter vectors (in batches) on the executor and keeps every evaluation.

    With a ``store`` (a JSON-lines file), every finished evaluation is appended to it, and the
    evaluations an earlier run with the same :func:`run_key` stored are loaded first: an
    interrupted fit started again with the same output folder redoes none of them.
    """

    def __init__(self, base, targets: list[Target], space: list[Parameter], s: Settings, bar=None,
                 store: Path | None = None):
        from sim.experiment.replication import default_jobs

        self.base, self.targets, self.space, self.s = base, targets, space, s
        self.jobs = s.jobs or default_jobs()
        self.sites = Sites.of(base)
        self.cache: dict[tuple, Evaluation] = {}
        self.evals: list[Evaluation] = []
        self.bar = bar
        self.store = store
        self.key = run_key(base, targets, space)
        self.stored: dict[tuple, dict] = {}
        self.resumed = 0
        #: simulated replication-days of one evaluation (the progress bar's unit)
        self.cost = s.replications * s.horizon_days
        if store is not None and store.is_file():
            for line in store.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:     # a line cut short by the interruption
                    continue
                if rec.get("key") == self.key:
                    self.stored[tuple(rec["unit_key"])] = rec

    def _save(self, k: tuple, unit: np.ndarray, sims: np.ndarray, error: str) -> None:
        if self.store is None:
            return
        self.store.parent.mkdir(parents=True, exist_ok=True)
        rec = {"key": self.key, "unit_key": list(k), "unit": unit.tolist(),
               "sims": [[None if not math.isfinite(x) else float(x) for x in row] for row in sims],
               "error": error}
        with self.store.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")

    def values(self, u: np.ndarray) -> list[float]:
        return [p.from_unit(x) for p, x in zip(self.space, u, strict=False)]

    def batch(self, units: Sequence[np.ndarray], phase: str) -> list[Evaluation]:
        """Evaluate each unit-cube vector (cached, stored, or run now); evaluations are numbered
        in the order of ``units`` whatever order the workers finish in, and an interrupted run
        resumed from the store numbers them as the uninterrupted one would have."""
        from sim.config import validate
        from sim.experiment.executor import iter_results

        units = [np.clip(np.asarray(u, dtype=float), 0.0, 1.0) for u in units]
        keys = [tuple(np.round(u, 10)) for u in units]
        R, T = self.s.replications, len(self.targets)
        order: list[tuple] = []
        units_of: dict[tuple, np.ndarray] = {}
        sims: dict[tuple, np.ndarray] = {}
        errors: dict[tuple, str] = {}
        todo: dict[tuple, Any] = {}
        for k, u in zip(keys, units, strict=False):
            if k in self.cache or k in units_of:
                continue
            order.append(k)
            units_of[k] = u
            rec = self.stored.get(k)
            if rec is not None:     # done by an earlier, interrupted run
                sims[k] = np.array([[math.nan if x is None else x for x in row] for row in rec["sims"]],
                                   dtype=float).reshape(R, T)
                if rec["error"]:
                    errors[k] = rec["error"]
                self.resumed += 1
                continue
            sims[k] = np.full((R, T), math.nan)
            cfg = apply_parameters(self.base, self.space, self.values(u))
            try:
                validate(cfg)
            except Exception as exc:  # a parameter vector the model rejects
                errors[k] = str(exc)
                self._save(k, u, sims[k], errors[k])
                continue
            todo[k] = cfg
        tasks = [((k, r), cfg, r) for k, cfg in todo.items() for r in range(R)]
        left = {k: R for k in todo}
        for (k, r), out in iter_results(tasks, self.jobs, self.base.executor):
            if "error" in out:
                errors.setdefault(k, out["error"].strip().splitlines()[-1])
            else:
                sims[k][r] = target_values(out, todo[k], self.targets, self.sites)
            left[k] -= 1
            if not left[k]:     # all its replications are in: store it now, not after the batch
                self._save(k, units_of[k], sims[k], errors.get(k, ""))
                if self.bar is not None:
                    self.bar.update(self.cost)
        for k in order:
            u = units_of[k]
            ev = Evaluation(index=len(self.evals), phase=phase, unit=u, values=self.values(u), loss=math.nan,
                            sims=sims[k], error=errors.get(k, ""))
            ev.loss = FAIL_LOSS if ev.error else loss_of(ev.means, self.targets)[0]
            self.cache[k] = ev
            self.evals.append(ev)
            if self.bar is not None and k not in todo:
                self.bar.update(self.cost)
        if self.bar is not None and self.evals:
            self.bar.set_postfix(best=f"{self.best().loss:.3g}", phase=phase)
        return [self.cache[k] for k in keys]

    def __call__(self, u: np.ndarray, phase: str = "optimiser") -> float:
        return self.batch([u], phase)[0].loss

    def best(self) -> Evaluation:
        return min(self.evals, key=lambda e: (e.loss, e.index))


@dataclass
class FitResult:
    """Everything a fit produced; :mod:`calibration.report` writes it out."""

    settings: Settings
    targets: list[Target]
    space: list[Parameter]
    evaluations: list[Evaluation]
    best: Evaluation
    start: np.ndarray
    targets_table: pd.DataFrame
    parameters_table: pd.DataFrame
    trace: pd.DataFrame
    profile: pd.DataFrame
    base: Any = None
    targets_file: str = ""
    space_file: str = ""
    optimiser_message: str = ""
    #: the optimum the identifiability profile was taken around (``best`` may be a profile
    #: point if the profile found a lower loss: then the optimiser had not converged).
    profile_centre: Evaluation | None = None
    #: the check run at the optimum (longer and/or more replications), if one was asked for.
    check: Evaluation | None = None
    #: the response surface of a surrogate fit.
    surface: Any = None
    #: evaluations taken from the store of an earlier, interrupted run.
    resumed: int = 0
    wall_s: float = 0.0
    created: str = ""

    @property
    def fitted(self) -> dict[str, float]:
        return {p.name: v for p, v in zip(self.space, self.best.values, strict=False)}

    @property
    def loss(self) -> float:
        return self.best.loss

    @property
    def check_loss(self) -> float:
        """The loss of the check run (the fit's own loss where there is none)."""
        c = self.check
        return loss_of(c.means, self.targets)[0] if c is not None and not c.error else self.loss


def _optimise(ev: Evaluator, x0: np.ndarray, s: Settings) -> str:
    from scipy.optimize import minimize

    d = len(x0)
    if s.iterations <= 0:
        return "no optimiser iterations"
    bounds = [(0.0, 1.0)] * d
    if s.optimiser == "nelder-mead":
        simplex = [x0]
        for j in range(d):
            x = x0.copy()
            step = s.initial_step if x0[j] + s.initial_step <= 1.0 else -s.initial_step
            x[j] = x0[j] + step
            simplex.append(x)
        res = minimize(ev, x0, method="Nelder-Mead", bounds=bounds,
                       options={"maxfev": s.iterations, "initial_simplex": np.array(simplex),
                                "xatol": 1e-3, "fatol": 1e-4})
    else:
        res = minimize(ev, x0, method="Powell", bounds=bounds,
                       options={"maxfev": s.iterations, "xtol": 1e-3, "ftol": 1e-4})
    return str(res.message)


def _profile_points(space: Sequence[Parameter], centre: np.ndarray, offsets: Sequence[float]):
    """``(parameter index, unit vector)`` of the profile: each parameter alone moved by each
    offset either side of ``centre``, clipped to the cube (a move the bound cancels is left out)."""
    for j in range(len(space)):
        for off in sorted({float(o) for o in offsets}):
            for sign in (-1, 1):
                u = centre.copy()
                u[j] = min(max(u[j] + sign * off, 0.0), 1.0)
                if abs(u[j] - centre[j]) >= 1e-9:
                    yield j, u


def _profile(ev: Evaluator, best: Evaluation, s: Settings) -> pd.DataFrame:
    """Loss along each parameter (unit-cube offsets either side of the optimum)."""
    pts, meta = [], []
    for j, u in _profile_points(ev.space, best.unit, s.profile_offsets):
        pts.append(u)
        meta.append((ev.space[j].name, j, u[j] - best.unit[j]))
    if not pts:
        return pd.DataFrame(columns=["parameter", "offset", "value", "loss", "delta_loss"])
    res = ev.batch(pts, "profile")
    rows = []
    for (name, j, off), e in zip(meta, res, strict=False):
        rows.append({"parameter": name, "offset": off, "value": e.values[j], "loss": e.loss,
                     "delta_loss": e.loss - best.loss, "eval": e.index})
    return pd.DataFrame(rows).drop_duplicates(["parameter", "offset"]).sort_values(["parameter", "offset"])


def _identifiability(ev: Evaluator, best: Evaluation, profile: pd.DataFrame, s: Settings,
                     design: list[Evaluation], means_at=None) -> list[dict]:
    """Each parameter's status from the loss profile; ``means_at(j, offset)`` gives the target
    means with parameter ``j`` moved by ``offset`` (default: the profile's evaluations)."""
    thr = s.identify_threshold
    k_best = max(3, math.ceil(0.1 * len(design))) if len(design) >= 3 else 0
    top = sorted(design, key=lambda e: e.loss)[:k_best]
    out = []
    for j, prm in enumerate(ev.space):
        row: dict = {}
        pr = profile[profile["parameter"] == prm.name] if len(profile) else profile
        lo_side = pr[pr["offset"] < 0] if len(pr) else pr
        hi_side = pr[pr["offset"] > 0] if len(pr) else pr
        rise_lo = float(lo_side["delta_loss"].max()) if len(lo_side) else math.nan
        rise_hi = float(hi_side["delta_loss"].max()) if len(hi_side) else math.nan
        at_lo, at_hi = best.unit[j] <= 1e-6, best.unit[j] >= 1 - 1e-6
        sides = [r for r in (rise_lo, rise_hi) if math.isfinite(r)]
        near = min(best.unit[j], 1 - best.unit[j]) < 0.02
        if not len(pr):
            status = "not profiled"
        elif sides and all(r >= thr for r in sides) and (len(sides) == 2 or at_lo or at_hi):
            status = "identified" if not (at_lo or at_hi) else "at a bound (fit wants a value beyond it)"
        elif any(r >= thr for r in sides):
            status = "weakly identified (one side only)"
        else:
            status = "not identified"
        if near and status not in ("not profiled",) and not status.startswith("at a bound"):
            status += "; near a bound"
        row.update(parameter=prm.name, identifiability=status, rise_below=rise_lo, rise_above=rise_hi)
        # quadratic through the profile: delta = a off^2 + b off -> approximate interval of loss+thr
        lo_v = hi_v = math.nan
        if len(pr) >= 2:
            off = pr["offset"].to_numpy(dtype=float)
            dl = pr["delta_loss"].to_numpy(dtype=float)
            ok = np.isfinite(dl) & (dl < FAIL_LOSS / 2)
            if ok.sum() >= 2:
                a, b = np.linalg.lstsq(np.c_[off[ok] ** 2, off[ok]], dl[ok], rcond=None)[0]
                if a > 0:
                    hw = math.sqrt(thr / a)
                    lo_v, hi_v = prm.from_unit(best.unit[j] - hw), prm.from_unit(best.unit[j] + hw)
        row.update(approx_low=lo_v, approx_high=hi_v)
        row["design_spread"] = (float(np.ptp([e.unit[j] for e in top])) if top else math.nan)
        # which targets move most when this parameter moves (tolerance units per 10% of the range)
        informed = ""
        if len(pr) >= 2:
            o_lo, o_hi = float(pr.iloc[0]["offset"]), float(pr.iloc[-1]["offset"])
            if means_at is not None:
                m_lo, m_hi = means_at(j, o_lo), means_at(j, o_hi)
            else:
                m_lo, m_hi = ev.evals[int(pr.iloc[0]["eval"])].means, ev.evals[int(pr.iloc[-1]["eval"])].means
            du = o_hi - o_lo
            if du > 0:
                sens = [(abs((h - lo_) / t.tolerance) * 0.1 / du, t.name)
                        for h, lo_, t in zip(m_hi, m_lo, ev.targets, strict=False)
                        if math.isfinite(h - lo_) and t.weight > 0]
                sens.sort(reverse=True)
                informed = "; ".join(f"{n} ({v:.2g})" for v, n in sens[:3] if v >= 0.05)
        row["moves_targets"] = informed
        out.append(row)
    return out


def fit(settings: Settings | dict | None = None, targets: list[Target] | str | None = None,
        space: list[Parameter] | str | None = None, progress: bool | None = None) -> FitResult:
    """Run the whole fit and return a :class:`FitResult` (nothing is written: see
    :func:`calibration.report.write_outputs`)."""
    t0 = time.perf_counter()
    s = settings if isinstance(settings, Settings) else Settings.from_mapping(dict(settings or {}))
    s.validate()
    targets_file = space_file = ""
    if targets is None or isinstance(targets, str):
        targets_file = str(resolve_file(targets or s.targets_name, "targets"))
        targets = load_targets(targets_file)
    if space is None or isinstance(space, str):
        name = space or s.space
        if name == "auto":    # the space the targets file names (a district's), else the county one
            name = (declared_space(targets_file) if targets_file else None) or "space.yaml"
        space_file = str(resolve_file(name, "space"))
        space = load_space(space_file)
    space = [dataclasses.replace(p) for p in space]
    base = base_config(s, keep_patients=needs_tables(targets))
    check_targets(targets, base, targets_file or "targets")
    check_space(space, base, space_file or "space")
    start_unit = None
    if s.start:
        names = {p.name: p for p in space}
        bad = set(s.start) - set(names)
        if bad:
            raise CalibrationError(f"calibration config: start names unknown parameter(s) {', '.join(sorted(bad))}")
        start_unit = np.full(len(space), 0.5)
        for j, p in enumerate(space):
            if p.name in s.start:
                v = float(s.start[p.name])
                if not p.lower <= v <= p.upper:
                    raise CalibrationError(f"calibration config: start.{p.name}={v:g} is outside "
                                           f"[{p.lower:g}, {p.upper:g}]")
                start_unit[j] = p.to_unit(v)

    show = s.progress if progress is None else progress
    n_prof = 2 * len(space) * len(set(s.profile_offsets)) if s.method == "direct" else 0
    n_main = s.iterations if s.method == "direct" else s.rounds
    bar = None
    if show:
        from tqdm.auto import tqdm

        # counted in simulated replication-days, so that the estimate of the time left (tqdm's)
        # weighs the long check run as it should
        per_eval = s.replications * s.horizon_days
        check_days = s.check_replications * (s.checked().horizon_days if s.check_replications else 0)
        bar = tqdm(total=(s.design_points + n_main + n_prof + (1 if start_unit is not None else 0)) * per_eval
                   + check_days, desc=f"calibration {s.network} (simulated days)", unit="day", unit_scale=True)
    store = Path(s.output_dir) / "evaluations.jsonl" if s.resume and s.output_dir else None
    ev = Evaluator(base, list(targets), space, s, bar, store=store)
    surface = None
    check_eval = None
    try:
        design: list[Evaluation] = []
        if s.design_points > 0:
            from scipy.stats import qmc

            pts = qmc.LatinHypercube(d=len(space), seed=s.seed).random(s.design_points)
            design = ev.batch(list(pts), "design")
        if start_unit is not None:
            x0 = start_unit
            ev.batch([x0], "start")
        elif design:
            x0 = min(design, key=lambda e: e.loss).unit.copy()
        else:
            x0 = np.full(len(space), 0.5)
        if s.method == "direct":
            msg = _optimise(ev, x0.copy(), s)
            centre = ev.best()
            profile = _profile(ev, centre, s) if s.profile_offsets else pd.DataFrame(
                columns=["parameter", "offset", "value", "loss", "delta_loss", "eval"])
            ident = _identifiability(ev, centre, profile, s, design)
        else:
            msg, surface = _surrogate_rounds(ev, s)
            centre = ev.best()
            profile = _surface_profile(ev, surface, centre, s)

            def means_at(j: int, off: float) -> np.ndarray:
                u = centre.unit.copy()
                u[j] = min(max(u[j] + off, 0.0), 1.0)
                return surface.predict(u)

            ident = _identifiability(ev, centre, profile, s, design, means_at=means_at)
        if s.check_replications:
            cs = s.checked()
            cbase = base_config(cs, keep_patients=needs_tables(targets))
            cev = Evaluator(cbase, list(targets), space, cs, bar, store=store)
            check_eval = cev.batch([ev.best().unit], "check")[0]
    finally:
        if bar is not None:
            bar.close()
    best = ev.best()
    return FitResult(settings=s, targets=list(targets), space=space, evaluations=ev.evals, best=best, start=x0,
                     targets_table=_targets_table(best, targets, check_eval), parameters_table=_parameters_table(
                         space, best, x0, ident), trace=_trace(ev, targets), profile=profile, base=base,
                     targets_file=targets_file, space_file=space_file, optimiser_message=msg,
                     profile_centre=centre, check=check_eval, surface=surface, resumed=ev.resumed,
                     wall_s=time.perf_counter() - t0, created=time.strftime("%Y-%m-%d %H:%M:%S"))


def _surrogate_rounds(ev: Evaluator, s: Settings) -> tuple[str, Any]:
    """Fit the surface on every good evaluation, simulate its predicted optimum, repeat.

    Stops early when a round's optimum is one already simulated (the surface and the
    simulator agree where it matters).  Returns a message and the last surface."""
    from calibration.surrogate import fit_surface, minimise

    d = len(ev.space)
    surface = None
    msg = "no surrogate rounds"
    for rnd in range(s.rounds + 1):
        good = [e for e in ev.evals if not e.error and np.isfinite(e.means).all()]
        if len(good) < d + 2:
            return (f"too few good evaluations ({len(good)}) for a response surface in {d} parameters: "
                    "raise design_points", surface)
        surface = fit_surface([e.unit for e in good], np.array([e.means for e in good]))
        if rnd == s.rounds:
            break
        sf = surface

        def predicted(u: np.ndarray, sf=sf) -> float:
            return loss_of(sf.predict(u), ev.targets)[0]

        starts = [e.unit for e in sorted(good, key=lambda e: e.loss)[:4]] + [np.full(d, 0.5)]
        u_star = minimise(predicted, d, starts)
        known = tuple(np.round(np.clip(u_star, 0, 1), 10)) in ev.cache
        e = ev.batch([u_star], "surrogate")[0]
        msg = (f"round {rnd + 1}: predicted loss {predicted(u_star):.3g}, simulated {e.loss:.3g}")
        if known:
            msg += " (the surface's optimum was already simulated: converged)"
            if ev.bar is not None:
                ev.bar.update((s.rounds - rnd - 1) * ev.cost)
            break
    return msg, surface


def _surface_profile(ev: Evaluator, surface, centre: Evaluation, s: Settings) -> pd.DataFrame:
    """The loss profile of the response surface around the optimum (no simulation)."""
    base_loss = loss_of(surface.predict(centre.unit), ev.targets)[0]
    rows = []
    for j, u in _profile_points(ev.space, centre.unit, s.profile_offsets):
        pl = loss_of(surface.predict(u), ev.targets)[0]
        rows.append({"parameter": ev.space[j].name, "offset": u[j] - centre.unit[j],
                     "value": ev.space[j].from_unit(u[j]), "loss": pl, "delta_loss": pl - base_loss, "eval": -1})
    if not rows:
        return pd.DataFrame(columns=["parameter", "offset", "value", "loss", "delta_loss", "eval"])
    return pd.DataFrame(rows).drop_duplicates(["parameter", "offset"]).sort_values(["parameter", "offset"])


def _targets_table(best: Evaluation, targets: Sequence[Target], check: Evaluation | None = None) -> pd.DataFrame:
    """Observed vs simulated at the optimum.  With a check run, ``simulated`` and its CI come
    from the check run and ``fit_simulated`` / ``fit_vs_check`` (tolerance units) say how far
    the fit's own (shorter, fewer) runs were from it."""
    from sim.analysis.kpis import mean_ci

    src = check if check is not None and not check.error else best
    _, parts = loss_of(src.means, targets)
    rows = []
    for i, t in enumerate(targets):
        m, sd, lo, hi = mean_ci(src.sims[:, i])
        row = {"target": t.name, "kpi": t.kpi, "observed": t.value, "tolerance": t.tolerance,
               "weight": t.weight, "simulated": m, "ci_low": lo, "ci_high": hi, "sd": sd,
               "z": (m - t.value) / t.tolerance if math.isfinite(m) else math.nan,
               "loss_contribution": parts[i], "within_tolerance": bool(abs(m - t.value) <= t.tolerance)
               if math.isfinite(m) else False, "source": t.source}
        if src is not best:
            fm = float(best.means[i])
            row["fit_simulated"] = fm
            row["fit_vs_check"] = (fm - m) / t.tolerance if math.isfinite(fm) and math.isfinite(m) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _parameters_table(space: Sequence[Parameter], best: Evaluation, x0: np.ndarray, ident: list[dict]) -> pd.DataFrame:
    rows = []
    for j, p in enumerate(space):
        rows.append({"parameter": p.name, "path": p.path, "mode": p.mode, "transform": p.transform,
                     "lower": p.lower, "upper": p.upper, "start": p.from_unit(x0[j]), "fitted": best.values[j],
                     "fitted_unit": float(best.unit[j]), **{k: v for k, v in ident[j].items() if k != "parameter"}})
    return pd.DataFrame(rows)


def _trace(ev: Evaluator, targets: Sequence[Target]) -> pd.DataFrame:
    rows = []
    best = math.inf
    for e in ev.evals:
        best = min(best, e.loss)
        r = {"eval": e.index, "phase": e.phase, "loss": e.loss, "best_loss": best}
        r.update({p.name: v for p, v in zip(ev.space, e.values, strict=False)})
        r.update({f"sim:{t.name}": m for t, m in zip(targets, e.means, strict=False)})
        r["error"] = e.error
        rows.append(r)
    return pd.DataFrame(rows)


def describe_paths(space: Sequence[Parameter]) -> dict[str, list[str]]:
    """Each parameter's concrete config paths (after wildcard expansion)."""
    return {p.name: [format_path(t) for t in p.targets] for p in space}
