"""Running a sensitivity analysis: one-at-a-time tornado, Morris screening, Sobol indices on the
parameters that matter (SALib), every point under common random numbers.

Folder (``<run.output_dir>/sensitivity/<name>/`` unless given)::

    sensitivity.yaml        the config and the overrides it ran with
    evaluations/<key>/      each point's replications (:mod:`sim.search.evaluate`; a resumed or
                            repeated analysis reads them back)
    points.parquet, points.csv   every point: phase (base, tornado, morris, sobol), the
                            parameter values, the result (the KPI, or the paired difference)
    parameters.csv          the parameters: path, range, transform, base value, source
    tornado.csv             each parameter at its low and high end, the others at base
    morris.csv              mu*, its 95% bootstrap half-width, mu, sigma, rank
    sobol.csv               S1, ST and their 95% half-widths for the top parameters
    indices.parquet, indices.csv   morris and sobol joined, one row per parameter
    meta.json               settings, base value, sign of the difference over the points
    sensitivity_brief.html, sensitivity_brief.zh.html   the brief section with the figures

Every point's replication ``r`` uses the seed of replication ``r`` (``run.seed``), so two
points differ only by their parameter values; a parameter the result does not depend on moves
it by exactly nothing.  With ``compare``, both scenarios run at each point and the result is
their difference, paired replication by replication.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.io import atomic_write_bytes
from sim.config import Config, ConfigError, validate
from sim.experiment.replication import default_jobs, versions
from sim.search.evaluate import Evaluator, scenario_key
from sim.search.judge import per_replication
from sim.sensitivity.config import (
    SensitivityConfig,
    apply_values,
    base_value,
    load_sensitivity,
    resolve_parameters,
)

__all__ = ["SensitivityResult", "run_sensitivity"]


@dataclass
class SensitivityResult:
    config: SensitivityConfig
    points: pd.DataFrame
    tornado: pd.DataFrame
    morris: pd.DataFrame
    sobol: pd.DataFrame
    folder: Path
    meta: dict = field(default_factory=dict)

    def ranking(self) -> list[str]:
        """The parameters by Morris mu*, largest first."""
        return list(self.morris.sort_values("mu_star", ascending=False)["parameter"])


def _t(p, v: float) -> float:
    return math.log(v) if p.transform == "log" else v


def _it(p, u: float) -> float:
    return math.exp(u) if p.transform == "log" else u


class _Points:
    """Evaluates points (parameter values) into results, through the evaluator's store."""

    def __init__(self, s: SensitivityConfig, bases: list[Config], paths: list[dict], evaluator: Evaluator,
                 bar) -> None:
        self.s, self.bases, self.paths, self.ev, self.bar = s, bases, paths, evaluator, bar

    def keys(self, values: dict[str, float]) -> list[tuple[str, Config]]:
        out = []
        for cfg, paths in zip(self.bases, self.paths):
            c = apply_values(cfg, self.s.parameters, paths, values)
            out.append((scenario_key(c), c))
        return out

    def evaluate(self, points: list[dict[str, float]]) -> np.ndarray:
        reps = range(self.s.replications)
        per_point = [self.keys(v) for v in points]
        items = [(k, c, reps) for kc in per_point for k, c in kc]

        def tick(_k: str, _r: int) -> None:
            if self.bar is not None:
                self.bar.update(1)

        self.ev.run(items, on_done=tick)
        out = np.empty(len(points))
        for i, kc in enumerate(per_point):
            xs = [per_replication(self.ev.kpis(k, reps), self.s.kpi, self.s.group) for k, _ in kc]
            if any(len(x) < self.s.replications for x in xs):
                raise RuntimeError(f"a replication failed at point {points[i]} (see {self.ev.store})")
            x = xs[1] - xs[0] if len(xs) == 2 else xs[0]
            out[i] = float(np.nanmean(x)) if np.isfinite(x).any() else math.nan
        return out


def run_sensitivity(s: SensitivityConfig | str, overrides: Sequence[str] = (), folder: str | Path | None = None,
                    jobs: int | None = None, progress: bool = True, config_dir: str | Path | None = None,
                    brief: bool = True) -> SensitivityResult:
    """Run (or resume) a sensitivity analysis and write its folder (see the module docstring)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    from sim.config.loading import compose

    t0 = time.perf_counter()
    if isinstance(s, str):
        s = load_sensitivity(s, config_dir=config_dir)
    common = [*s.base_overrides]
    tail = [*overrides, "run.keep_patients=false", f"run.replications={s.replications}"]
    bases = [compose([*common, *s.compare.baseline, *tail, f"scenario={s.name}"], config_dir)]
    if s.compare.scenario:
        bases.append(compose([*common, *s.compare.scenario, *tail, f"scenario={s.name}_scenario"], config_dir))
    paths = [resolve_parameters(s.parameters, b) for b in bases]
    names = list(s.parameters)
    params = s.parameters
    for name in names:  # each end of each range must be a config the model accepts
        p = params[name]
        for v in (p.lower, p.upper):
            for b, pa in zip(bases, paths):
                try:
                    validate(apply_values(b, params, pa, {name: v}))
                except ConfigError as exc:
                    raise ConfigError(f"sensitivity.parameters.{name}: at {v:g}, {exc}") from None
    base = {n: base_value(params[n], bases[0], paths[0][n]) for n in names}
    folder = Path(folder) if folder is not None else Path(bases[0].run.output_dir) / "sensitivity" / s.name
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "sensitivity.yaml", _yaml({"sensitivity": asdict(s), "overrides": list(overrides)}))
    njobs = jobs if jobs is not None else (bases[0].run.jobs or default_jobs())
    evaluator = Evaluator(folder, njobs, bases[0].executor)

    k = len(names)
    bounds = [[_t(params[n], params[n].lower), _t(params[n], params[n].upper)] for n in names]
    problem = {"num_vars": k, "names": names, "bounds": bounds}
    X = morris_sample.sample(problem, N=s.morris.trajectories, num_levels=s.morris.levels, seed=s.seed)
    morris_pts = [{n: _it(params[n], float(x[j])) for j, n in enumerate(names)} for x in X]
    tornado_pts = [{**base, n: v} for n in names for v in (params[n].lower, params[n].upper)] if s.tornado else []
    sob_n = s.sobol.n * (s.sobol.top + 2 if not s.sobol.second_order else 2 * s.sobol.top + 2) if s.sobol.top else 0
    total = (1 + len(tornado_pts) + len(morris_pts) + sob_n) * s.replications * len(bases)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"sensitivity {s.name}", unit="rep")
    pts = _Points(s, bases, paths, evaluator, bar)
    rows: list[dict] = []

    def record(phase: str, points: list[dict], values: np.ndarray) -> None:
        for i, (v, y) in enumerate(zip(points, values)):
            rows.append({"phase": phase, "point": i, **v, "value": float(y)})

    y_base = pts.evaluate([base])
    record("base", [base], y_base)
    tornado = pd.DataFrame()
    if tornado_pts:
        y = pts.evaluate(tornado_pts)
        record("tornado", tornado_pts, y)
        tornado = pd.DataFrame([{"parameter": n, "low": params[n].lower, "high": params[n].upper,
                                 "low_value": y[2 * j], "high_value": y[2 * j + 1],
                                 "span": abs(y[2 * j + 1] - y[2 * j])} for j, n in enumerate(names)])
    y_m = pts.evaluate(morris_pts)
    record("morris", morris_pts, y_m)
    if not np.isfinite(y_m).all():
        raise ConfigError(f"sensitivity.kpi: {s.kpi} has no value at some points (no cases in the horizon); "
                          "lengthen run.horizon_days or choose another KPI")
    mo = morris_analyze.analyze(problem, X, y_m, num_levels=s.morris.levels, conf_level=0.95, seed=s.seed)
    morris = pd.DataFrame({"parameter": names, "mu_star": np.asarray(mo["mu_star"], dtype=float),
                           "mu_star_conf": np.asarray(mo["mu_star_conf"], dtype=float),
                           "mu": np.asarray(mo["mu"], dtype=float), "sigma": np.asarray(mo["sigma"], dtype=float)})
    morris["mu_star_conf"] = morris["mu_star_conf"].fillna(0.0)
    morris = morris.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)
    morris["rank"] = np.arange(1, len(morris) + 1)
    sobol = pd.DataFrame()
    if s.sobol.top >= 2:
        top = list(morris["parameter"][: s.sobol.top])
        prob = {"num_vars": len(top), "names": top, "bounds": [bounds[names.index(n)] for n in top]}
        Xs = sobol_sample.sample(prob, s.sobol.n, calc_second_order=s.sobol.second_order, seed=s.seed)
        sob_pts = [{**base, **{n: _it(params[n], float(x[j])) for j, n in enumerate(top)}} for x in Xs]
        y_s = pts.evaluate(sob_pts)
        record("sobol", sob_pts, y_s)
        if np.nanstd(y_s) == 0:
            S1 = ST = np.zeros(len(top))
            S1c = STc = np.zeros(len(top))
        else:
            so = sobol_analyze.analyze(prob, y_s, calc_second_order=s.sobol.second_order, conf_level=0.95,
                                       seed=s.seed)
            S1, ST, S1c, STc = so["S1"], so["ST"], so["S1_conf"], so["ST_conf"]
        sobol = pd.DataFrame({"parameter": top, "S1": S1, "S1_conf": S1c, "ST": ST, "ST_conf": STc})
    if bar is not None:
        bar.close()
    points = pd.DataFrame(rows)
    sign = None
    if s.compare.scenario:
        v = points["value"].to_numpy()
        v = v[np.isfinite(v)]
        sign = {"points": int(len(v)), "positive": float((v > 0).mean()) if len(v) else 0.0,
                "negative": float((v < 0).mean()) if len(v) else 0.0}
    par = pd.DataFrame([{"parameter": n, **asdict(params[n]), "base": base[n],
                         "targets": len(paths[0][n])} for n in names])
    indices = morris.merge(sobol, on="parameter", how="left") if len(sobol) else morris
    meta = {"name": s.name, "kpi": s.kpi, "group": s.group, "compare": bool(s.compare.scenario),
            "compare_label_en": s.compare.label_en or " vs ".join(filter(None, [" ".join(s.compare.scenario),
                                                                                 " ".join(s.compare.baseline)])),
            "compare_label_zh": s.compare.label_zh or s.compare.label_en or " ".join(s.compare.scenario),
            "base_value": float(y_base[0]), "replications": s.replications, "network": bases[0].network.name,
            "horizon_days": bases[0].run.horizon_days, "warmup_days": bases[0].run.warmup_days,
            "seed": bases[0].run.seed, "morris": asdict(s.morris), "sobol": asdict(s.sobol), "sign": sign,
            "points": len(points), "replications_run": evaluator.ran, "title_en": s.title_en, "title_zh": s.title_zh,
            "description": s.description, "versions": versions(), "wall_s": time.perf_counter() - t0,
            "overrides": list(overrides)}
    for name, df in (("points", points), ("parameters", par), ("tornado", tornado), ("morris", morris),
                     ("sobol", sobol), ("indices", indices)):
        atomic_write_bytes(folder / f"{name}.csv", df.to_csv(index=False).encode())
    for name, df in (("points", points), ("indices", indices)):
        tmp = folder / f".{name}.parquet.tmp"
        df.to_parquet(tmp, index=False)
        tmp.replace(folder / f"{name}.parquet")
    atomic_write_bytes(folder / "meta.json", json.dumps(meta, indent=2, ensure_ascii=False, default=str).encode())
    if brief:
        from sim.report.search_brief import write_sensitivity_brief

        write_sensitivity_brief(folder)
    return SensitivityResult(s, points, tornado, morris, sobol, folder, meta)


def _yaml(obj: dict) -> bytes:
    import yaml

    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False).encode()
