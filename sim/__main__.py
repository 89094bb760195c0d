"""Command line: ``python -m sim [hydra overrides]`` runs one scenario and writes a run folder.

Examples::

    python -m sim                                   # baseline of the default county
    python -m sim network=xianghe run.replications=5 run.horizon_days=90
    python -m sim --multirun network=toy,xianghe    # a plain Hydra sweep

A mistake in a config or an override prints one line naming the key and exits with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.config import ConfigError, register_configs, to_config
from sim.experiment.replication import default_jobs

__all__ = ["main", "format_kpis"]


def format_kpis(summary, group: str = "county") -> str:
    """The county-level KPI table as text: id, English and Chinese names, mean and 95% CI
    across replications in the KPI's unit (:mod:`sim.analysis.registry`)."""
    from sim.analysis.registry import format_value, label, pad

    s = summary[summary["group"] == group]
    lines = [f"{pad('metric', 36)} {pad('KPI', 44)} {pad('指标', 34)} {pad('mean', 14, True)} {pad('95% CI', 30, True)}"]
    for _, r in s.iterrows():
        m = r["metric"]
        ci = "" if r["ci_low"] != r["ci_low"] else f"[{format_value(m, r['ci_low'])}, {format_value(m, r['ci_high'])}]"
        lines.append(f"{pad(m, 36)} {pad(label(m, 'en', unit=False), 44)} {pad(label(m, 'zh', unit=False), 34)} "
                     f"{pad(format_value(m, r['mean']), 14, True)} {pad(ci, 30, True)}")
    return "\n".join(lines)


register_configs()


@hydra.main(config_path="../scenarios", config_name="config", version_base=None)
def _app(node: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.experiment.runner import run_to_folder

    try:
        cfg = to_config(node)
        if cfg.study.scenarios:
            _study(cfg, [*list(HydraConfig.get().overrides.task), *_user_search_path()])
            return
        out = Path(HydraConfig.get().runtime.output_dir)
        result = run_to_folder(cfg, out, progress=True)  # streamed: no replication's tables held twice
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"\nscenario {cfg.scenario!r} on network {cfg.network.name!r}: {cfg.run.replications} replication(s), "
          f"{cfg.run.horizon_days:g} days ({cfg.run.warmup_days:g} warm-up), seed {cfg.run.seed}")
    print(format_kpis(result.summary))
    print(f"\nrun folder: {out}")


def _user_search_path() -> list[str]:
    """The folders the user added (``--config-dir D``, ``hydra.searchpath=[...]``) as one
    ``hydra.searchpath`` override, so that a study composes its scenarios with them too (a study
    of an imported county ``D/network/mycounty.yaml``); empty when none was added."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    paths = [f"{src.schema}://{src.path}" for src in hc.runtime.config_sources
             if src.provider == "command-line" and src.schema == "file"]
    paths += [p for p in hc.searchpath if p not in paths]
    return [f"hydra.searchpath=[{','.join(paths)}]"] if paths else []


def format_comparison(study) -> str:
    """Per county KPI (id, English and Chinese names): each scenario's mean, and its paired
    difference from the baseline, in the KPI's unit (:mod:`sim.analysis.registry`)."""
    from sim.analysis.registry import format_value, label, pad

    s = study.summary[study.summary["group"] == "county"]
    d = study.differences
    d = d[d["group"] == "county"] if len(d) else d
    names = list(study.runs)
    head = f"{pad('metric', 36)} {pad('KPI', 40)} {pad('指标', 30)} " + " ".join(pad(n, 16, True) for n in names)
    lines = [head]
    for metric in s["metric"].drop_duplicates():
        row = (f"{pad(metric, 36)} {pad(label(metric, 'en', unit=False), 40)} "
               f"{pad(label(metric, 'zh', unit=False), 30)} ")
        cells = []
        for n in names:
            m = s[(s["scenario"] == n) & (s["metric"] == metric)]["mean"]
            val = format_value(metric, m.iloc[0]) if len(m) else "-"
            if n != study.baseline and len(d):
                dd = d[(d["scenario"] == n) & (d["metric"] == metric)]
                if len(dd) and dd["ci_low"].iloc[0] == dd["ci_low"].iloc[0]:
                    sig = "*" if (dd["ci_low"].iloc[0] > 0 or dd["ci_high"].iloc[0] < 0) else " "
                    val = format_value(metric, dd["mean_diff"].iloc[0], diff=True, sign=True) + sig
            cells.append(pad(val, 16, True))
        lines.append(row + " ".join(cells))
    lines.append(f"(baseline {study.baseline!r}: means; other columns: paired difference from the baseline, "
                 "* = 95% CI excludes zero)")
    return "\n".join(lines)


def _study(cfg, overrides: list[str]) -> None:
    from sim.experiment.study import run_study

    result = run_study(cfg.study, overrides, progress=True)
    print(f"\nstudy {cfg.study.name!r}: {len(result.runs)} scenarios x {cfg.run.replications} replication(s), "
          f"{cfg.run.horizon_days:g} days ({cfg.run.warmup_days:g} warm-up), seed {cfg.run.seed}")
    print(format_comparison(result))
    print(f"\nstudy folder: {result.folder}")
    if result.folder is not None and (result.folder / "brief.html").exists():
        print(f"brief: {result.folder / 'brief.html'}")
    if result.failures:
        print(f"\n{len(result.failures)} replication(s) failed:", file=sys.stderr)
        for f in result.failures:
            print(f"  {f['scenario']} r{f['replication']}: {f['error']}", file=sys.stderr)
        sys.exit(1)


#: Hydra's own command-line flags: name -> (short form, takes a value).
_FLAGS = {
    "--help": ("-h", False), "--hydra-help": ("", False), "--version": ("", False),
    "--cfg": ("-c", True), "--resolve": ("", False), "--package": ("-p", True), "--run": ("-r", False),
    "--multirun": ("-m", False), "--shell-completion": ("-sc", False), "--config-path": ("-cp", True),
    "--config-name": ("-cn", True), "--config-dir": ("-cd", True), "--experimental-rerun": ("", True),
    "--info": ("-i", False),
}
_SHORT = {short: long for long, (short, _) in _FLAGS.items() if short}
#: flags after which no config is composed (they print something about Hydra itself).
_NO_COMPOSE = ("--hydra-help", "--version", "--shell-completion", "--info", "--experimental-rerun")
#: at most this many combinations of a sweep are composed to validate it before any job runs.
MAX_VALIDATED_JOBS = 64


def _split_argv(argv: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """Hydra flags (long names, with their values) and the overrides; an unknown flag is a
    :class:`ConfigError`."""
    flags: dict[str, str | None] = {}
    overrides: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and not a.startswith("--") and a not in _SHORT and len(a) > 1 and "=" not in a:
            raise ConfigError(f"{a}: unknown option (see python -m sim --help)")
        if a.startswith("-"):
            name, eq, value = a.partition("=")
            name = _SHORT.get(name, name)
            if name not in _FLAGS:
                raise ConfigError(f"{name}: unknown option (see python -m sim --help)")
            takes = _FLAGS[name][1]
            if takes and not eq:
                if name == "--cfg" and (i + 1 >= len(argv) or argv[i + 1] not in ("job", "hydra", "all")):
                    raise ConfigError("--cfg: needs one of job, hydra, all (e.g. --cfg job)")
                if i + 1 >= len(argv):
                    raise ConfigError(f"{name}: needs a value")
                value = argv[i + 1]
                i += 1
            flags[name] = value if takes else None
        else:
            overrides.append(a)
        i += 1
    return flags, overrides


def _expand(overrides: list[str]) -> tuple[list[list[str]], bool]:
    """Parse the overrides as Hydra does; a sweep (``a=1,2``, ``range(..)``, ``choice(..)``)
    becomes its combinations.  Returns (combinations, whether any override was a sweep)."""
    import itertools

    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = []  # (the override as typed, which Hydra keeps as its Optional input_line; the parsed override)
    for o in overrides:
        try:
            parsed.extend([(o, ov) for ov in parser.parse_overrides([o])])
        except Exception as exc:
            problem = " ".join(str(exc).split()).split(" See https://", 1)[0]
            shown = o if len(o) <= 60 else f"{o[:40]}..."
            raise ConfigError(f"{shown}: not a valid override ({problem}); write key=value, "
                              "quoting values with spaces or brackets") from None
    choices: list[list[str]] = []
    sweep = False
    for line, ov in parsed:
        if ov.is_sweep_override():
            sweep = True
            try:
                values = list(ov.sweep_string_iterator())
            except Exception:  # e.g. a glob over a config group: Hydra expands it itself
                choices.append([line])
                continue
            prefix = ov.get_key_element()
            choices.append([f"{prefix}={v}" for v in values])
        else:
            choices.append([line])
    combos = [list(c) for c in itertools.islice(itertools.product(*choices), MAX_VALIDATED_JOBS)]
    return combos or [[]], sweep


def _validate_cli(flags: dict[str, str | None], overrides: list[str]) -> None:
    """Compose every job the command line asks for, so that any mistake is one clear line
    before Hydra starts (and before any job of a sweep runs)."""
    from sim.config.loading import SCENARIOS_DIR, compose

    if any(f in flags for f in _NO_COMPOSE):
        return
    extra: list[str] = []
    config_dir: Path | None = None
    if "--config-dir" in flags:
        d = Path(str(flags["--config-dir"])).expanduser()
        if not d.is_dir():
            raise ConfigError(f"--config-dir: {d} is not a folder")
        extra.append(f"hydra.searchpath=[file://{d.resolve()}]")
    if "--config-path" in flags:
        config_dir = Path(str(flags["--config-path"])).expanduser()
        if not config_dir.is_absolute():
            config_dir = (Path(__file__).resolve().parent / config_dir).resolve()
        if not config_dir.is_dir():
            raise ConfigError(f"--config-path: {config_dir} is not a folder")
    config_name = str(flags.get("--config-name") or "config")
    if not (config_dir or SCENARIOS_DIR).joinpath(f"{config_name}.yaml").exists() and "--config-name" in flags:
        raise ConfigError(f"--config-name: no {config_name}.yaml in {config_dir or SCENARIOS_DIR}")
    for o in overrides:  # their own commands (issue 19): not groups of a scenario
        if o.split("=", 1)[0].lstrip("+") in ("search", "sensitivity"):
            raise ConfigError(f"{o}: run it with python -m sim.{o.split('=', 1)[0].lstrip('+')} {o.lstrip('+')}")
    combos, sweep = _expand(overrides)
    if sweep and "--multirun" not in flags:
        first = next(o for o in overrides if "," in o or "(" in o)
        raise ConfigError(f"{first}: several values are a sweep; add --multirun to run each of them")
    for combo in combos:
        cfg = compose([*combo, *extra], config_dir=config_dir, config_name=config_name)
        if "--cfg" not in flags:
            from sim.experiment.sizing import check_fits

            check_fits(cfg, jobs=cfg.run.jobs or default_jobs(),
                       keep_in_memory=False if cfg.study.scenarios else None,
                       scenarios=max(1, len(cfg.study.scenarios)))


def usage() -> str:
    """The short ``--help`` page: what to run, the config groups and their options, examples."""
    from sim.config.loading import SCENARIOS_DIR

    groups = sorted(p for p in SCENARIOS_DIR.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    width = max(len(g.name) for g in groups)
    import textwrap

    rows = []
    for g in groups:
        options = ", ".join(sorted(q.stem for q in g.glob("*.yaml")))
        if g.name in ("search", "sensitivity"):
            options = f"(python -m sim.{g.name} {g.name}=<name>) {options}"
        rows.extend(textwrap.wrap(options, 96, initial_indent=f"  {g.name:<{width}}  ",
                                  subsequent_indent=" " * (width + 4)))
    return "\n".join([
        "usage: python -m sim [group=option ...] [key=value ...] [--multirun] [--cfg job]",
        "",
        "Simulates patient flow in a county medical community (县域医共体) and writes a run folder",
        "(or, with study=<name>, a study folder with the comparison and the policy brief).",
        "",
        "Config groups and their options (files under scenarios/<group>/):",
        *rows,
        "",
        "Every key of the schema can be set on the command line; the schema, with the meaning of",
        "each key, is sim/config/schema.py, and docs/model.md describes the model.",
        "",
        "Examples:",
        "  python -m sim network=xianghe run.replications=5 run.horizon_days=90",
        "  python -m sim study=demo run.replications=8          # baseline vs alternatives, with a brief",
        "  python -m sim --multirun network=toy,xianghe run.seed=1,2",
        "",
        "Other options:",
        "  --cfg job       print the composed config and exit (--cfg all: with Hydra's own settings)",
        "  --multirun, -m  run a sweep (comma-separated values, range(...), choice(...))",
        "  --config-dir D  add a folder of your own configs (e.g. D/network/mycounty.yaml)",
        "  --hydra-help    Hydra's own help",
        "",
        "A mistake in a config prints one line naming the key and exits with code 2.",
    ])


def main(argv: list[str] | None = None) -> None:
    """Validate the command line with one clear line on error, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        flags, overrides = _split_argv(argv)
        if "--help" in flags:
            print(usage())
            return
        _validate_cli(flags, overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.argv = [sys.argv[0], *argv]
    _app()


if __name__ == "__main__":
    main()
