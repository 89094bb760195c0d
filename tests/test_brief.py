"""The HTML brief: summary sentences from hand-made comparisons, a hand-made study folder
written in both languages, self-contained HTML rendered in headless Chromium (every figure,
no JavaScript error, no network request; a screenshot is kept), export errors, the CLI, and
the brief written automatically at the end of a real study."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.analysis.kpis import KPI_ZH, paired_differences, summarise
from sim.report import brief, plots
from tests.test_plots import english_words, hand_summary, hand_tables

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "outputs" / "test-artifacts"
STUDY_SCEN = {"baseline": [], "visits_2": ["care.expert.visits_per_month=2"],
              "visits_4": ["care.expert.visits_per_month=4"], "visits_8": ["care.expert.visits_per_month=8"]}


# --------------------------------------------------------------------------------------------
# summary sentences


def test_findings_pick_winner_and_significance():
    summary, differences = hand_summary()
    f = {x["metric"]: x for x in brief.findings(summary, differences, "baseline")}
    assert f["inpatient_retention"]["winner"] == "more_visits" and f["inpatient_retention"]["significant"]
    assert f["inpatient_retention"]["mean_diff"] == pytest.approx(0.03)
    # lower is better: the -3 min of more_visits wins, but its CI spans zero
    assert f["wait_mean_min"]["winner"] == "more_visits" and not f["wait_mean_min"]["significant"]


def test_summary_sentences_state_winner_and_sign():
    summary, differences = hand_summary()
    en = brief.summary_sentences(summary, differences, "baseline")
    assert len(en) == 2
    ret, wait = en
    assert "Residents' admissions in the county (higher is better): best under “more_visits”" in ret
    assert "93.0% against 90.0%" in ret and "+3.0 pp" in ret and "95% CI +1.0 pp to +5.0 pp" in ret
    assert "the difference is significant" in ret and "no significant difference" not in ret
    assert "Mean waiting time (lower is better): best under “more_visits”" in wait
    assert "−3.0 min" in wait and "no significant difference (95% CI spans zero)" in wait
    zh = brief.summary_sentences(summary, differences, "baseline", language="zh")
    assert zh[0].startswith("参保人县域内住院人次占比(越高越好):以“more_visits”最佳")
    assert "+3.0个百分点" in zh[0] and "差异有统计学意义" in zh[0]
    assert zh[1].startswith("平均候诊时间(越低越好)") and "差异无统计学意义" in zh[1] and "−3.0分钟" in zh[1]


def test_summary_when_no_alternative_improves():
    summary, differences = hand_summary()
    d = differences[differences["scenario"] == "remote_dx"]
    en = brief.summary_sentences(summary, d, "baseline")
    assert en[0].startswith("Residents' admissions in the county (higher is better): no alternative improves on the baseline")
    assert "“remote_dx”, differs by −1.00 pp" in en[0] and "significantly worse" in en[0]
    assert "differs by +2.0 min" in en[1] and "significantly worse" in en[1]
    zh = brief.summary_sentences(summary, d, "baseline", language="zh")
    assert "没有备选方案优于基线" in zh[0] and "显著劣于基线" in zh[0]
    # a CI that spans zero is never called significant, whichever side the mean is on
    d2 = d.assign(ci_low=-0.02, ci_high=0.01)
    assert "no significant difference" in brief.summary_sentences(summary, d2, "baseline")[0]


# --------------------------------------------------------------------------------------------
# a hand-made study folder


def make_study(folder: Path, with_patients: bool = True) -> Path:
    """A study folder as sim.experiment.study writes it, from hand-made tables (no model run)."""
    folder.mkdir(parents=True, exist_ok=True)
    kpi_rows = []
    for i, scen in enumerate(STUDY_SCEN):
        t = hand_tables(scen, replications=3)
        run = folder / "runs" / scen
        run.mkdir(parents=True)
        for name, df in t.items():
            if name in ("patients", "visits", "emergency") and not with_patients:
                continue
            df.to_parquet(run / f"{name}.parquet", index=name == "conditions")
        for r in range(3):
            for metric, base, step in (("inpatient_retention", 0.88, 0.01),
                                       ("county_retention", 0.90, 0.01), ("grassroots_share", 0.6, 0.02),
                                       ("outward_transfer_rate", 0.05, -0.004), ("wait_mean_min", 20.0, 1.5),
                                       ("oop_per_episode", 100.0, -2.0), ("episodes", 1000, 0)):
                kpi_rows.append((scen, r, metric, "county", base + step * i + 0.001 * r * (metric != "episodes")
                                 + (0.003 * r * i if metric == "county_retention" else 0.0)))
        config = {"scenario": scen, "network": {"name": "hand", "description": "a hand-made county"},
                  "run": {"horizon_days": 10, "warmup_days": 0.1, "replications": 3, "seed": 7}}
        (run / "config.yaml").write_text(yaml.safe_dump(config))
    kpis = pd.DataFrame(kpi_rows, columns=["scenario", "replication", "metric", "group", "value"])
    kpis.to_parquet(folder / "kpis.parquet")
    summarise(kpis).to_csv(folder / "summary.csv", index=False)
    paired_differences(kpis, "baseline").to_csv(folder / "differences.csv", index=False)
    for scen in STUDY_SCEN:
        s = summarise(kpis[kpis["scenario"] == scen])
        s.to_csv(folder / "runs" / scen / "summary.csv", index=False)
        kpis[kpis["scenario"] == scen].to_parquet(folder / "runs" / scen / "kpis.parquet")
    spec = {"study": {"name": "hand", "description": "Expert visits per month", "baseline": "baseline",
                      "base_overrides": ["network=hand"], "scenarios": STUDY_SCEN}, "overrides": []}
    (folder / "study.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    meta = {"study": "hand", "seed": 7, "replications": 3, "scenarios": list(STUDY_SCEN),
            "config_hashes": {s: "0123456789abcdef" for s in STUDY_SCEN}, "versions": {"python": "3.x"},
            "wall_s": 1.5, "failures": []}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    folder = make_study(tmp_path_factory.mktemp("brief") / "hand")
    brief.write_brief(folder)
    return folder


FIG_DIV = re.compile(r"<div id=\"(fig-[^\"]+)\" class=\"plotly-graph-div\"")


def test_brief_written_in_both_languages_and_self_contained(study):
    en = (study / "brief.html").read_text(encoding="utf-8")
    zh = (study / "brief.zh.html").read_text(encoding="utf-8")
    for page in (en, zh):
        assert page.count("plotly.js v") == 1 or len(re.findall(r"\* plotly\.js v\d", page)) == 1
        assert not re.search(r"<script[^>]*\bsrc=", page), "no external scripts"
        assert not re.search(r"<link\b", page), "no external stylesheets or fonts"
        # outside the embedded plotly.js bundle (whose strings name map-tile attributions), no remote URL
        own = re.sub(r"<script type='text/javascript'>.*?</script></head>", "</head>", page, count=1, flags=re.S)
        assert len(own) < len(page) / 5
        assert not re.search(r"https?://", own), re.search(r".{80}https?://.{80}", own)
        divs = FIG_DIV.findall(page)
        assert {"fig-comparison", "fig-map", "fig-waits", "fig-occupancy", "fig-emergency"} <= set(divs)
        assert any(d.startswith("fig-dose-") for d in divs), "the one-key lever gives a dose-response figure"
        assert "fig-sankey" in divs and not any(d.startswith("fig-sankey-") for d in divs), "one Sankey, a selector"
    assert "<html lang='en'>" in en and "<html lang='zh-CN'>" in zh
    assert "County retention rate" in en and "best under “visits_8”" in en and "Seed</dt><dd>7" in en
    assert "visits_8" in en and "care.expert.visits_per_month=8" in en


def test_chinese_brief_is_in_chinese(study):
    zh = (study / "brief.zh.html").read_text(encoding="utf-8")
    for m in ("county_retention", "grassroots_share", "outward_transfer_rate"):
        assert KPI_ZH[m] in zh
    for word in ("结论", "方案排序", "注意事项", "主要指标", "方法说明", "随机数种子", "差异有统计学意义", "越高越好"):
        assert word in zh
    data = brief.load_folder(study)
    para = brief.summary_paragraph(data, "zh")
    ids = set(STUDY_SCEN) | {"hand"}
    assert not english_words([para], ids), english_words([para], ids)
    for key, heading, caption, fig in brief.brief_figures(data, "zh"):
        texts = [heading, caption, fig.layout.title.text or ""]
        texts += [fig.layout[a].title.text for a in fig.layout if a.startswith(("xaxis", "yaxis"))
                  and fig.layout[a].title.text]
        texts += [tr.name for tr in fig.data if tr.name and tr.showlegend is not False]
        assert not english_words(texts, ids | {"clinic:v1", "clinic:v2", "t1", "t2", "lead", "city", "care",
                                               "expert", "visits_per_month"}), (key, texts)


def test_single_run_folder_brief(tmp_path):
    folder = make_study(tmp_path / "s")
    run = folder / "runs" / "baseline"
    out = brief.write_brief(run, "en")
    assert out == run / "brief.html" and not (run / "brief.zh.html").exists()
    page = out.read_text(encoding="utf-8")
    assert "This brief summarises scenario “baseline”" in page and "fig-map" in page
    assert "Paired difference" not in page


def test_brief_without_patient_tables(tmp_path):
    folder = make_study(tmp_path / "s", with_patients=False)
    page = brief.write_brief(folder, "en").read_text(encoding="utf-8")
    assert "fig-comparison" in page and "fig-sankey" not in page and "keep_patients" in page


def test_export_without_kaleido_names_the_fix(tmp_path, monkeypatch, capsys):
    import sys

    folder = make_study(tmp_path / "s")
    monkeypatch.setitem(sys.modules, "kaleido", None)  # import kaleido -> ImportError
    with pytest.raises(brief.BriefExportError, match=r"pip install kaleido.*chromium"):
        brief.write_brief(folder, "en", export="png")
    assert (folder / "brief.html").exists(), "the HTML brief is still written"
    assert brief.main([str(folder), "--language", "zh", "--export", "svg"]) == 3
    err = capsys.readouterr().err
    assert "pip install kaleido" in err and "apt-get install chromium" in err
    assert (folder / "brief.zh.html").exists()


def test_cli_language_and_bad_folder(tmp_path, capsys):
    folder = make_study(tmp_path / "s")
    assert brief.main([str(folder), "--language", "zh"]) == 0
    assert (folder / "brief.zh.html").exists() and not (folder / "brief.html").exists()
    assert "brief.zh.html" in capsys.readouterr().out
    assert brief.main([str(tmp_path / "nothing")]) == 2


def test_run_study_writes_both_briefs(tmp_path):
    """The real model: a two-replication toy study ends by writing brief.html and brief.zh.html."""
    from sim.experiment.study import run_study

    res = run_study("remote_diagnosis", ["network=toy", "run=test", "run.replications=2", f"run.output_dir={tmp_path}"],
                    jobs=1, progress=False)
    folder = res.folder
    for name in ("brief.html", "brief.zh.html"):
        page = (folder / name).read_text(encoding="utf-8")
        assert "fig-comparison" in page and "fig-map" in page
    assert KPI_ZH["county_retention"] in (folder / "brief.zh.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# headless Chromium over the DevTools protocol (a pipe; no extra Python packages)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """A headless Chromium driven through ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, binary: str, profile: str) -> None:
        r_cmd, self._w_cmd = os.pipe()
        self._r_evt, w_evt = os.pipe()
        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-default-apps", "--disable-quic",
                "--hide-scrollbars", "--mute-audio", '--host-resolver-rules=MAP * ~NOTFOUND',
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(["bash", "-c", f'exec "$@" 3<&{r_cmd} 4>&{w_evt}', "bash", *args],
                                     pass_fds=(r_cmd, w_evt), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(r_cmd)
        os.close(w_evt)
        self._next = 0
        self.events: list[dict] = []
        self._replies: dict[int, dict] = {}
        self._q: queue.Queue = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._r_evt, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._q.put(None)
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                self._q.put(json.loads(msg))

    def _pump(self, timeout: float) -> None:
        msg = self._q.get(timeout=timeout)
        if msg is None:
            raise RuntimeError("chromium closed the DevTools pipe: " + self.proc.stderr.read().decode()[-2000:])
        if "id" in msg:
            self._replies[msg["id"]] = msg
        else:
            self.events.append(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20) -> dict:
        self._next += 1
        cid = self._next
        msg = {"id": cid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w_cmd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while cid not in self._replies:
            self._pump(max(0.05, deadline - time.monotonic()))
        reply = self._replies.pop(cid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._pump(max(0.01, end - time.monotonic()))
            except queue.Empty:
                return

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w_cmd)


_RENDERED = """JSON.stringify((() => {
  const divs = [...document.querySelectorAll('div.plotly-graph-div')];
  return {ready: document.readyState, total: divs.length,
          rendered: divs.filter(d => d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg')
                                      && d._fullLayout).map(d => d.id),
          height: document.documentElement.scrollHeight};
})())"""


def render(page: Path, screenshot: Path | None = None, timeout: float = 25.0, full_page: bool = True) -> dict:
    """Open ``page`` in headless Chromium; report figures rendered, JS errors and requests.
    ``screenshot`` is of the whole page, or with ``full_page=False`` of the first screen
    (1280 x 900) only."""
    binary = find_chromium()
    assert binary, "chromium not found"
    with tempfile.TemporaryDirectory() as profile:
        c = Chromium(binary, profile)
        try:
            target = c.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = c.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for m in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
                c.send(m, session=s)
            c.send("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=s)
            c.send("Page.navigate", {"url": page.resolve().as_uri()}, session=s)
            deadline = time.monotonic() + timeout
            state = {}
            while time.monotonic() < deadline:
                got = c.send("Runtime.evaluate", {"expression": _RENDERED, "returnByValue": True}, session=s)
                if "value" not in got.get("result", {}):  # the page is still loading
                    c.wait(0.25)
                    continue
                state = json.loads(got["result"]["value"])
                if state["ready"] == "complete" and state["total"] and len(state["rendered"]) == state["total"]:
                    break
                c.wait(0.25)
            c.wait(0.5)  # late errors
            if screenshot is not None and full_page:
                c.send("Emulation.setDeviceMetricsOverride",
                       {"width": 1280, "height": min(int(state.get("height") or 900), 16000), "deviceScaleFactor": 1,
                        "mobile": False}, session=s)
                c.wait(0.8)  # plotly's responsive re-layout
                shot = c.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                              session=s, timeout=30)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            elif screenshot is not None:
                c.send("Runtime.evaluate", {"expression": "window.scrollTo(0, 0)"}, session=s)
                c.wait(0.3)
                shot = c.send("Page.captureScreenshot", {"format": "png"}, session=s, timeout=30)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            events = list(c.events)
        finally:
            c.close()
    errors, requests = [], []
    for e in events:
        p = e.get("params", {})
        if e.get("method") == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append(d.get("exception", {}).get("description") or d.get("text"))
        elif e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text"))
        elif e.get("method") == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "blob:", "about:")):
                requests.append(url)
    return {**state, "errors": errors, "requests": requests}


@pytest.fixture(scope="module")
def chromium():
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); required when CI is set")
    return find_chromium()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_brief_renders_in_headless_chromium(study, chromium, language):
    page = study / brief.FILENAMES[language]
    shot = ARTIFACTS / f"brief-{language}.png"
    t0 = time.monotonic()
    res = render(page, screenshot=shot)
    print(f"\nscreenshot: {shot} ({time.monotonic() - t0:.1f} s)")
    assert res["total"] == len(FIG_DIV.findall(page.read_text(encoding="utf-8"))) >= 8
    assert sorted(res["rendered"]) == sorted(FIG_DIV.findall(page.read_text(encoding="utf-8"))), res
    assert res["errors"] == [], res["errors"]
    assert res["requests"] == [], res["requests"]
    assert shot.stat().st_size > 10_000


def test_render_detects_errors_and_requests(tmp_path, chromium):
    """The browser check itself: a broken page and a remote request are caught."""
    page = tmp_path / "bad.html"
    page.write_text("<html><head><script src='https://cdn.example.org/x.js'></script></head><body>"
                    "<div class='plotly-graph-div' id='x'></div><script>undefinedFunction()</script></body></html>")
    res = render(page, timeout=3)
    assert any("undefinedFunction" in (e or "") for e in res["errors"])
    assert res["requests"] == ["https://cdn.example.org/x.js"]
    assert res["rendered"] == []


def test_plots_module_has_no_simpy_dependency():
    src = Path(plots.__file__).read_text() + Path(brief.__file__).read_text()
    assert "simpy" not in src and "sim.model.world" not in src and "sim.experiment.runner" not in src
