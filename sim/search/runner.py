"""Running a policy search: Optuna asks for lever mixes, the simulator answers under common
random numbers, the best candidates are confirmed with more replications.

Search folder (``<run.output_dir>/searches/<name>/`` unless given)::

    search.yaml             the search config and the scenario overrides it ran with
    optuna.journal          the optimiser's storage (Optuna's journal file): a killed search,
                            started again, continues the same study without redoing a trial
    evaluations/<key>/      each scenario's replications (KPI tables; :mod:`sim.search.evaluate`)
    evaluations.jsonl       one line per replication that ran
    candidates.csv          every distinct candidate screened: levers, objectives and
                            constraints with their intervals, verdicts, feasible
    confirmed.csv           the best candidates re-run with ``confirm_replications``
    pareto.csv              the feasible candidates no other feasible one beats on every objective
    recommendation.json     the recommended mix, its paired comparison with the runner-up, and
                            what would change the recommendation
    meta.json               seeds, versions, counts (trials, replications run), wall time
    search_brief.html, search_brief.zh.html   the brief section (:mod:`sim.report.search_brief`)
    stale-<UTC time>/       the storage and tables of an earlier search with another spec

Each trial is one scenario: the base overrides, the trial's lever overrides
(:func:`sim.search.space.candidate`), then the command line's.  Its ``search.replications``
replications use the same seeds as every other trial's (``run.seed``), so candidates are
compared on the same patients.  A candidate whose config is refused (a closure that would cut
a village off, doctors moved to a closed centre) is recorded as refused, with the reason, and
the search goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.io import atomic_write_bytes
from sim.analysis.kpis import mean_ci
from sim.config import Config, ConfigError
from sim.county.network import build_county
from sim.county.restructure import effective_network
from sim.experiment.replication import default_jobs, versions
from sim.experiment.sizing import check_fits
from sim.search.config import COST, SearchConfig, load_search
from sim.search.evaluate import Evaluator, scenario_key
from sim.search.judge import NOT_MET, UNCERTAIN, judge, objective_values, pareto_front
from sim.search.space import Candidate, all_params, candidate, space_size, suggest

__all__ = ["SearchResult", "run_search", "load_search_result", "compose_candidate", "SEARCH_OUTPUTS"]

#: the search-level outputs, moved aside with the storage when the spec changed.
SEARCH_OUTPUTS = ("optuna.journal", "candidates.csv", "confirmed.csv", "pareto.csv", "recommendation.json",
                  "meta.json", "search.yaml", "search_brief.html", "search_brief.zh.html")

#: a violation the optimiser can hold (Optuna refuses NaN; an unknown verdict is far off).
_FAR = 1e12


@dataclass
class SearchResult:
    """A finished search: its tables and its recommendation (``None``: no candidate met every
    constraint on its interval)."""

    search: SearchConfig
    candidates: pd.DataFrame
    confirmed: pd.DataFrame
    recommendation: dict | None
    folder: Path
    meta: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        rec = self.recommendation["label_en"] if self.recommendation else None
        return f"SearchResult({self.search.name!r}, candidates={len(self.candidates)}, recommended={rec!r})"


class _Composer:
    """Composed candidates, cached by their overrides (composing costs ~0.5 s)."""

    def __init__(self, search: SearchConfig, overrides: Sequence[str], config_dir: str | Path | None) -> None:
        self.search = search
        self.overrides = list(overrides)
        self.config_dir = config_dir
        self.cache: dict[tuple[str, ...], tuple[Config | None, str]] = {}
        self.base = self._compose([], check=True)
        self.seed = self.base.run.seed

    def _compose(self, cand_overrides: Sequence[str], check: bool = False) -> Config:
        from sim.config.loading import compose

        ovr = [*self.search.base_overrides, *cand_overrides, *self.overrides, "run.keep_patients=false",
               f"scenario={self.search.name}"]
        cfg = compose(ovr, self.config_dir)
        build_county(effective_network(cfg))  # a closure that cuts a village off is refused here
        return cfg

    def __call__(self, cand: Candidate) -> tuple[Config | None, str]:
        """(config, key), or (None, why it was refused)."""
        k = tuple(cand.overrides)
        if k not in self.cache:
            try:
                cfg = self._compose(cand.overrides)
            except ConfigError as exc:
                self.cache[k] = (None, str(exc))
            else:
                if cfg.run.seed != self.seed:
                    raise ConfigError(f"search.space: a candidate ({cand.label_en}) sets run.seed={cfg.run.seed}; every "
                                      f"candidate must share run.seed={self.seed} (common random numbers)")
                self.cache[k] = (cfg, scenario_key(cfg))
        return self.cache[k]


def compose_candidate(search: SearchConfig, params: dict, overrides: Sequence[str] = (),
                      config_dir: str | Path | None = None) -> Config:
    """The composed scenario of one point of the space (for a closer look at a candidate)."""
    comp = _Composer(search, overrides, config_dir)
    cfg, why = comp(candidate(search, params, comp.base.restructure.operations))
    if cfg is None:
        raise ConfigError(why)
    return cfg


def _check_options(search: SearchConfig, comp: _Composer) -> None:
    """Each option of a choice, each candidate of a subset on its own and each end of a
    numeric dimension composes with the other dimensions at their first option, so a typo in
    an option stops the search at once with one line naming it.  (A combination of valid
    options may still be refused, e.g. two closures that cut a village off: that candidate is
    recorded as refused and the search goes on.)"""
    from sim.search.config import options

    first: dict[str, Any] = {}
    for n, d in search.space.items():
        opts = options(n, d)
        first[n] = (opts[0].name if d.kind in ("choice", "subset") else (int if d.kind == "int" else float)(opts[0].name)) \
            if opts else d.low
    checks: list[tuple[str, str, Any]] = []
    for name, d in search.space.items():
        if d.kind == "choice":
            checks += [(name, f"search.space.{name}.options.{o}", o) for o in d.options]
        elif d.kind == "subset":
            checks += [(name, f"search.space.{name}.candidates.{c}", c) for c in d.candidates]
        else:
            cast = int if d.kind == "int" else float
            checks += [(name, f"search.space.{name}.low", cast(d.low)), (name, f"search.space.{name}.high", cast(d.high))]
    for name, where, value in checks:
        try:
            cand = candidate(search, {**first, name: value}, comp.base.restructure.operations)
            comp._compose(cand.overrides)
        except (ConfigError, KeyError) as exc:
            raise ConfigError(f"{where}: {str(exc).strip(chr(39))}") from None


def _spec_hash(search: SearchConfig, overrides: Sequence[str]) -> str:
    d = asdict(search)
    for k in ("trials", "confirm_top", "confirm_replications", "batch", "description", "description_zh", "title_zh",
              "title_en"):
        d.pop(k, None)
    blob = json.dumps({"search": d, "overrides": list(overrides)}, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _move_stale(folder: Path, spec: str) -> Path | None:
    meta = folder / "search.yaml"
    if not meta.exists():
        return None
    import yaml

    try:
        old = (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("spec_hash")
    except yaml.YAMLError:
        old = None
    if old == spec:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = folder / f"stale-{stamp}"
    i = 1
    while dest.exists():
        i += 1
        dest = folder / f"stale-{stamp}-{i}"
    dest.mkdir()
    for n in SEARCH_OUTPUTS:
        if (folder / n).exists():
            os.replace(folder / n, dest / n)
    return dest


def _sampler(search: SearchConfig):
    """The optimiser; constraint violations reach it through each trial's ``set_constraint``."""
    import optuna

    kind = search.sampler
    if kind == "auto":
        kind = "tpe" if len(search.objectives) == 1 else "nsga2"
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=search.seed, n_startup_trials=search.startup_trials)
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=search.seed, population_size=search.population)
    return optuna.samplers.RandomSampler(seed=search.seed)  # random, and grid (every point enqueued)


def run_search(search: SearchConfig | str, overrides: Sequence[str] = (), folder: str | Path | None = None,
               jobs: int | None = None, progress: bool = True, config_dir: str | Path | None = None,
               brief: bool = True) -> SearchResult:
    """Run (or resume) a search and write its folder; see the module docstring.

    ``overrides`` are scenario overrides for every candidate (``run.horizon_days=28``); a
    search config's own keys are set with :func:`sim.search.config.load_search`."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    t0 = time.perf_counter()
    if isinstance(search, str):
        search = load_search(search, config_dir=config_dir)
    comp = _Composer(search, overrides, config_dir)
    base = comp.base
    njobs = jobs if jobs is not None else (base.run.jobs or default_jobs())
    check_fits(base, jobs=njobs, keep_in_memory=False)
    _check_options(search, comp)
    folder = Path(folder) if folder is not None else Path(base.run.output_dir) / "searches" / search.name
    folder.mkdir(parents=True, exist_ok=True)
    spec = _spec_hash(search, overrides)
    stale = _move_stale(folder, spec)
    if stale is not None:
        print(f"search {search.name}: {folder} held a search with another spec; moved its storage and tables to "
              f"{stale}", file=sys.stderr)
    atomic_write_bytes(folder / "search.yaml", _yaml({"spec_hash": spec, "search": asdict(search),
                                                      "overrides": list(overrides)}).encode())
    evaluator = Evaluator(folder, njobs, base.executor)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(folder / "optuna.journal")))
    directions: list[Any] = [o.direction for o in search.objectives]
    study = optuna.create_study(study_name=search.name, storage=storage, directions=directions,
                                sampler=_sampler(search), load_if_exists=True)
    base_ops = base.restructure.operations
    R = search.replications
    size = space_size(search)

    def finished() -> list:
        return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]

    def evaluate(trials: list[tuple[Any, dict]]) -> None:
        """Evaluate trials (an Optuna trial, its params) and tell the optimiser."""
        cands = [candidate(search, p, base_ops) for _, p in trials]
        composed = [comp(c) for c in cands]
        evaluator.run([(key, cfg, range(R)) for cfg, key in composed if cfg is not None])
        for (number, _), cand, (cfg, key) in zip(trials, cands, composed):  # number: the trial itself
            attrs: dict[str, Any] = {"overrides": cand.overrides, "label_en": cand.label_en, "label_zh": cand.label_zh}
            if cfg is None:
                attrs["refused"] = key
                _tell(study, number, attrs, state="fail")
                continue
            attrs["key"] = key
            k = evaluator.kpis(key, range(R))
            n = int(k["replication"].nunique()) if len(k) else 0
            if n < R:
                attrs["failed"] = f"{R - n} of {R} replications raised (see {folder / 'evaluations' / key})"
                _tell(study, number, attrs, state="fail")
                continue
            row = judge(k, search.objectives, search.constraints, search.cost, search.level)
            values = [row[f"obj{i}_mean"] for i in range(len(search.objectives))]
            if any(v != v for v in values):
                attrs["failed"] = "an objective has no value (no cases of its KPI in the horizon)"
                _tell(study, number, attrs, state="fail")
                continue
            attrs["violations"] = [min(v, _FAR) for v in row["violations"]]
            attrs["feasible"] = bool(row["feasible"])
            _tell(study, number, attrs, values=values)

    # trials a killed run left running: finish them first (their replications may be on disk)
    stale_running = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.RUNNING]
    if stale_running:
        # a trial another process left running is resumed through its id (Trial(study, trial_id))
        evaluate([(optuna.trial.Trial(study, t._trial_id), dict(t.params)) for t in stale_running])
    if search.sampler == "grid":
        grid = all_params(search)
        if grid is None:
            raise ConfigError("search.sampler: grid needs a finite space (give every float dimension a step)")
        asked = {json.dumps(t.params, sort_keys=True) for t in study.get_trials(deepcopy=False)}
        waiting = {json.dumps(t.params, sort_keys=True) for t in study.get_trials(deepcopy=False)
                   if t.state == optuna.trial.TrialState.WAITING}
        for p in grid:
            if json.dumps(p, sort_keys=True) not in asked | waiting:
                study.enqueue_trial(p)
    batch = search.batch or max(1, math.ceil(njobs / R))
    done = finished()
    bar = None
    if progress and len(done) < search.trials:
        from tqdm.auto import tqdm

        bar = tqdm(total=search.trials, initial=len(done), desc=f"search {search.name}", unit="trial")
        bar.set_postfix_str(_best_text(done, search))
    while len(done) < search.trials:
        if len({json.dumps(t.params, sort_keys=True) for t in done}) >= size:
            break  # every point of a finite space has been tried: more trials would only repeat
        new: list[tuple[Any, dict]] = []
        for _ in range(min(batch, search.trials - len(done))):
            trial = study.ask()
            new.append((trial, suggest(trial, search)))
        evaluate(new)
        done = finished()
        if bar is not None:
            bar.n = min(len(done), search.trials)
            bar.set_postfix_str(_best_text(done, search))
            bar.refresh()
    if bar is not None:
        bar.close()

    screened = _candidates(done, search, evaluator, R)
    confirm = _to_confirm(screened, search)
    items = []
    for _, row in confirm.iterrows():
        cfg, key = comp(_as_candidate(row))
        assert cfg is not None
        items.append((key, cfg, range(search.confirm_replications)))
    if items:
        evaluator.run(items)
    confirmed = _confirmed(confirm, search, evaluator)
    rec = _recommendation(screened, confirmed, search, evaluator)
    pareto = _pareto(screened, search)
    atomic_write_bytes(folder / "candidates.csv", _csv(screened))
    atomic_write_bytes(folder / "confirmed.csv", _csv(confirmed))
    atomic_write_bytes(folder / "pareto.csv", _csv(pareto))
    atomic_write_bytes(folder / "recommendation.json", json.dumps(rec, indent=2, ensure_ascii=False,
                                                                  default=_json_default).encode())
    sampler = search.sampler if search.sampler != "auto" else ("tpe" if len(search.objectives) == 1 else "nsga2")
    meta = {"search": search.name, "sampler": {"tpe": "TPE", "nsga2": "NSGA-II", "random": "random sampling",
                                               "grid": "every point of the space"}[sampler], "seed": base.run.seed, "network": base.network.name,
            "horizon_days": base.run.horizon_days, "warmup_days": base.run.warmup_days, "replications": R,
            "confirm_replications": search.confirm_replications, "trials_finished": len(done),
            "candidates": len(screened), "space_size": size if size != math.inf else None,
            "replications_run": evaluator.ran, "failed_replications": len(evaluator.failed), "jobs": njobs,
            "executor": base.executor.kind, "spec_hash": spec, "versions": versions(),
            "wall_s": time.perf_counter() - t0, "level": search.level,
            "objectives": [asdict(o) for o in search.objectives], "constraints": [asdict(c) for c in search.constraints],
            "cost": list(search.cost), "title_en": search.title_en, "title_zh": search.title_zh,
            "description": search.description, "description_zh": search.description_zh,
            "dimensions": {n: {"label_en": d.label_en or n, "label_zh": d.label_zh or d.label_en or n}
                           for n, d in search.space.items()},
            "base_overrides": list(search.base_overrides), "overrides": list(overrides)}
    atomic_write_bytes(folder / "meta.json", json.dumps(meta, indent=2, ensure_ascii=False, default=_json_default).encode())
    if brief:
        from sim.report.search_brief import write_search_brief

        write_search_brief(folder)
    return SearchResult(search, screened, confirmed, rec, folder, meta)


def _tell(study, trial, attrs: dict, values: list[float] | None = None, state: str = "complete") -> None:
    """Record a trial's attributes and constraint violations (<= 0: met), then tell its result."""
    from optuna.trial import TrialState

    for k, v in attrs.items():
        if k != "violations":
            trial.set_user_attr(k, v)
    for i, v in enumerate(attrs.get("violations", [])):
        trial.set_constraint(f"c{i}", float(v))
    if state == "fail":
        study.tell(trial, state=TrialState.FAIL)
    else:
        study.tell(trial, values)


def _best_text(done: list, search: SearchConfig) -> str:
    feas = [t for t in done if t.user_attrs.get("feasible") and t.values]
    if not feas:
        return "no feasible point yet"
    o = search.objectives[0]
    pick = min if o.direction == "minimize" else max
    best = pick(feas, key=lambda t: t.values[0])
    from sim.analysis.registry import format_value

    kpi = "running_cost_per_year" if o.kpi == COST else o.kpi
    return f"best feasible: {format_value(kpi, best.values[0])} ({best.user_attrs.get('label_en', '')})"


def _obj_cols(search: SearchConfig) -> list[str]:
    return [f"obj{i}_mean" for i in range(len(search.objectives))]


def _candidates(done: list, search: SearchConfig, evaluator: Evaluator, reps: int) -> pd.DataFrame:
    """One row per distinct candidate screened (a refused one: with the reason)."""
    rows: dict[str, dict] = {}
    for t in done:
        a = t.user_attrs
        key = a.get("key") or "refused:" + json.dumps(t.params, sort_keys=True)
        if key in rows:
            rows[key]["trials"].append(t.number)
            continue
        row = {"key": a.get("key", ""), "params": json.dumps(t.params, sort_keys=True, ensure_ascii=False),
               "label_en": a.get("label_en", ""), "label_zh": a.get("label_zh", ""),
               "overrides": json.dumps(a.get("overrides", []), ensure_ascii=False), "trials": [t.number],
               "refused": a.get("refused", "") or a.get("failed", "")}
        if a.get("key") and not row["refused"]:
            k = evaluator.kpis(a["key"], range(reps))
            row.update(judge(k, search.objectives, search.constraints, search.cost, search.level))
        else:
            row.update({"n": 0, "feasible": False})
        rows[key] = row
    df = pd.DataFrame(list(rows.values()))
    if not len(df):
        return df
    df["trials"] = df["trials"].map(lambda x: " ".join(map(str, x)))
    df = df.drop(columns=["violations"], errors="ignore")
    return _sorted(df, search)


def _sorted(df: pd.DataFrame, search: SearchConfig) -> pd.DataFrame:
    if "obj0_mean" not in df:
        return df.reset_index(drop=True)
    asc = search.objectives[0].direction == "minimize"
    return df.sort_values(["feasible", "obj0_mean"], ascending=[False, asc], na_position="last",
                          kind="stable").reset_index(drop=True)


def _to_confirm(screened: pd.DataFrame, search: SearchConfig) -> pd.DataFrame:
    """The candidates to re-run: the best ``confirm_top`` of those that met every constraint
    or missed one only on its interval (none clearly failed: more replications may settle
    them), best objective first (with several objectives, the feasible Pareto front first)."""
    if not len(screened) or search.confirm_top == 0 or "obj0_mean" not in screened:
        return screened.iloc[0:0]
    ok = screened[screened["refused"] == ""]
    cons = [c for c in ok.columns if c.startswith("con") and c.endswith("_status")]
    if cons:
        st = ok[cons]
        ok = ok[ok["feasible"] | ((st != NOT_MET).all(axis=1) & (st == UNCERTAIN).any(axis=1))]
    ok = ok.sort_values("obj0_mean", ascending=search.objectives[0].direction == "minimize", kind="stable")
    if len(search.objectives) > 1 and len(ok):
        feas = ok[ok["feasible"]]
        front = pareto_front(feas[_obj_cols(search)].to_numpy(), [o.direction for o in search.objectives]) \
            if len(feas) else np.zeros(0, dtype=bool)
        ok = pd.concat([feas[front], ok[~ok["key"].isin(set(feas[front]["key"]))]])
    return ok.head(search.confirm_top)


def _as_candidate(row: pd.Series) -> Candidate:
    return Candidate(json.loads(row["params"]), json.loads(row["overrides"]), row["label_en"], row["label_zh"])


def _confirmed(confirm: pd.DataFrame, search: SearchConfig, evaluator: Evaluator) -> pd.DataFrame:
    rows = []
    for _, r in confirm.iterrows():
        k = evaluator.kpis(r["key"], range(search.confirm_replications))
        row = {c: r[c] for c in ("key", "params", "label_en", "label_zh", "overrides", "trials")}
        row["screen_feasible"] = bool(r["feasible"])
        row.update(judge(k, search.objectives, search.constraints, search.cost, search.level))
        rows.append(row)
    df = pd.DataFrame(rows)
    if not len(df):
        return df
    return _sorted(df.drop(columns=["violations"], errors="ignore"), search)


def _paired(evaluator: Evaluator, search: SearchConfig, a: str, b: str, reps: int) -> dict:
    """Objective 0 of ``a`` minus ``b``, paired by replication (common random numbers)."""
    ka, kb = evaluator.kpis(a, range(reps)), evaluator.kpis(b, range(reps))
    common = sorted(set(ka["replication"]) & set(kb["replication"]))
    ka, kb = ka[ka["replication"].isin(common)], kb[kb["replication"].isin(common)]
    xa = objective_values(ka, search.objectives[:1], search.cost)[0]
    xb = objective_values(kb, search.objectives[:1], search.cost)[0]
    m, _, lo, hi = mean_ci(xa - xb, search.level)
    return {"n": len(common), "mean": m, "low": lo, "high": hi}


def _admitting_limit(row: pd.Series, i: int, op: str) -> float:
    """The limit of constraint ``i`` that this candidate's interval would meet."""
    return float(row[f"con{i}_low"] if op == ">=" else row[f"con{i}_high"])


def _recommendation(screened: pd.DataFrame, confirmed: pd.DataFrame, search: SearchConfig,
                    evaluator: Evaluator) -> dict | None:
    """The best confirmed feasible candidate, and what would change it."""
    if not len(confirmed) or not confirmed["feasible"].any():
        return _no_recommendation(screened, search)
    feas = confirmed[confirmed["feasible"]]
    best = feas.iloc[0]
    rec = _row_dict(best, search)
    rec["status"] = "recommended"
    # the binding constraint: the smallest margin, relative to its limit
    margins: list[dict[str, Any]] = []
    for i, c in enumerate(search.constraints):
        m = float(best[f"con{i}_margin"])
        margins.append({"index": i, "kpi": c.kpi, "op": c.op, "limit": c.value, "margin": m,
                        "relative": m / abs(c.value) if c.value else m})
    rec["binding"] = min(margins, key=lambda x: float(x["relative"])) if margins else None
    if len(feas) > 1:
        second = feas.iloc[1]
        rec["runner_up"] = _row_dict(second, search)
        rec["runner_up"]["difference"] = _paired(evaluator, search, second["key"], best["key"],
                                                 search.confirm_replications)
    else:
        rec["runner_up"] = None
    rec["would_change"] = _would_change(screened, confirmed, best, search)
    return rec


def _better(a: float, b: float, direction: str) -> bool:
    return a < b if direction == "minimize" else a > b


def _would_change(screened: pd.DataFrame, confirmed: pd.DataFrame, best: pd.Series, search: SearchConfig) -> list[dict]:
    """Candidates better on objective 0 than the recommendation that failed a constraint, with
    the limit each failed constraint would need (at the candidate's interval bound): what a
    planner would have to accept to get them."""
    out = []
    conf_keys = set(confirmed["key"])
    pool = pd.concat([confirmed, screened[~screened["key"].isin(conf_keys)]], ignore_index=True)
    direction = search.objectives[0].direction
    for _, r in pool.iterrows():
        if r.get("refused") or r["feasible"] or r["key"] == best["key"] or r["obj0_mean"] != r["obj0_mean"]:
            continue
        if not _better(float(r["obj0_mean"]), float(best["obj0_mean"]), direction):
            continue
        needs = []
        for i, c in enumerate(search.constraints):
            if r[f"con{i}_status"] != "met":
                needs.append({"kpi": c.kpi, "op": c.op, "limit": c.value, "status": r[f"con{i}_status"],
                              "mean": float(r[f"con{i}_mean"]), "needed_limit": _admitting_limit(r, i, c.op)})
        d = _row_dict(r, search)
        d["gain"] = float(r["obj0_mean"]) - float(best["obj0_mean"])
        d["needs"] = needs
        out.append(d)
    out.sort(key=lambda d: d["obj0_mean"] * (1 if direction == "minimize" else -1))
    return out[:5]


def _no_recommendation(screened: pd.DataFrame, search: SearchConfig) -> dict | None:
    if not len(screened):
        return None
    ok = screened[screened["refused"] == ""]
    if not len(ok):
        return None
    return {"status": "none_feasible", "closest": [_row_dict(r, search) for _, r in ok.head(3).iterrows()]}


def _row_dict(r: pd.Series, search: SearchConfig) -> dict:
    d: dict[str, Any] = {"key": r["key"], "label_en": r["label_en"], "label_zh": r["label_zh"],
                         "params": json.loads(r["params"]), "overrides": json.loads(r["overrides"]), "n": int(r["n"]),
                         "feasible": bool(r["feasible"])}
    for i in range(len(search.objectives)):
        for s in ("mean", "low", "high"):
            d[f"obj{i}_{s}"] = float(r[f"obj{i}_{s}"])
    for i in range(len(search.constraints)):
        for s in ("mean", "low", "high", "margin"):
            d[f"con{i}_{s}"] = float(r[f"con{i}_{s}"])
        d[f"con{i}_status"] = r[f"con{i}_status"]
    return d


def _pareto(screened: pd.DataFrame, search: SearchConfig) -> pd.DataFrame:
    if not len(screened) or "obj0_mean" not in screened:
        return screened.iloc[0:0]
    feas = screened[screened["feasible"]]
    if not len(feas):
        return feas
    mask = pareto_front(feas[_obj_cols(search)].to_numpy(), [o.direction for o in search.objectives])
    return feas[mask].reset_index(drop=True)


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if math.isnan(float(o)) else float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return asdict(o)
    return str(o)


def _yaml(obj: dict) -> str:
    import yaml

    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)


def load_search_result(folder: str | Path) -> SearchResult:
    """A search folder read back (no model needed)."""
    import yaml

    folder = Path(folder)
    spec = yaml.safe_load((folder / "search.yaml").read_text(encoding="utf-8"))
    from omegaconf import OmegaConf

    search = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SearchConfig), spec["search"]))
    assert isinstance(search, SearchConfig)

    def read(name: str) -> pd.DataFrame:
        p = folder / name
        return pd.read_csv(p, keep_default_na=True) if p.exists() and p.stat().st_size > 1 else pd.DataFrame()

    rec = json.loads((folder / "recommendation.json").read_text(encoding="utf-8"))
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return SearchResult(search, read("candidates.csv"), read("confirmed.csv"), rec, folder, meta)
