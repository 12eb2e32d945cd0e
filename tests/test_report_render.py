import base64
import json
import shutil
import subprocess
from html.parser import HTMLParser

import matplotlib.image
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from jaxdiag.experiment import load_config
from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.jobs.run import run_main_job
from jaxdiag.report import load_predictions, render_report

SECTIONS = ["splits", "sanity", "loss_curves", "bias_variance", "pr_roc", "risk_coverage",
            "reliability", "confusion", "error_analysis", "histograms", "learning_curve",
            "learning_rate_range", "search", "next_steps"]
PNG = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Sections (id -> status), image sources, and every other link-like attribute."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: dict[str, str] = {}
        self.images: list[str] = []
        self.links: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections[attrs["id"]] = attrs["data-status"]
        elif tag == "img":
            self.images.append(attrs["src"])
        self.links += [v for k, v in attrs.items() if k in ("href", "src") and tag != "img"]


def _page(run_dir) -> _Page:
    return _Page((run_dir / "report.html").read_text())


def test_every_section_of_a_finished_run_is_drawn_from_its_own_data(finished_run):
    report, run_dir = finished_run
    page = _page(run_dir)
    assert list(page.sections.items()) == [(s, "shown") for s in SECTIONS]
    # Self-contained: every image is an embedded PNG, every link an anchor of the page.
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG
    assert all(link.startswith("#") and link[1:] in page.sections for link in page.links)
    sections = report["report"]["sections"]
    assert list(sections) == SECTIONS
    figures = [f for s in sections.values() for f in s["figures"]]
    assert len(page.images) == len(figures) == 12
    for figure in figures:
        assert (run_dir / figure).read_bytes()[:8] == PNG

    # The figures' numbers are this run's, checked against independent references.
    y, p = load_predictions(run_dir)["dev"]
    dev = report["splits"]["dev"]
    assert len(y) == dev["size"] and np.mean(p.argmax(1) == y) == pytest.approx(dev["accuracy"])
    indicator = y[:, None] == np.arange(p.shape[1])
    scores = sections["pr_roc"]
    assert scores["roc_auc"]["micro"] == pytest.approx(
        roc_auc_score(indicator.ravel(), p.ravel()), abs=1e-6)
    assert scores["average_precision"]["micro"] == pytest.approx(
        average_precision_score(indicator.ravel(), p.ravel()), abs=1e-6)
    for c, name in enumerate(report["data"]["class_names"]):
        assert scores["roc_auc"][name] == pytest.approx(roc_auc_score(indicator[:, c], p[:, c]),
                                                        abs=1e-6)
    confidence, correct = p.max(1).astype(np.float64), p.argmax(1) == y
    bins = np.clip(np.ceil(confidence * 15).astype(int) - 1, 0, 14)  # bins (lower, upper]
    ece = sum(abs(correct[bins == b].mean() - confidence[bins == b].mean()) * np.mean(bins == b)
              for b in np.unique(bins))
    assert sections["reliability"]["expected_calibration_error"] == pytest.approx(ece, abs=1e-5)
    # accuracy at 95% coverage: the highest confidence threshold keeping >= 95% of dev
    threshold = max(t for t in np.unique(confidence) if np.mean(confidence >= t) >= 0.95)
    assert sections["risk_coverage"]["accuracy_at_coverage"] == pytest.approx(
        correct[confidence >= threshold].mean(), abs=1e-6)
    assert sections["histograms"]["steps"] == [0, report["training"]["steps_done"]]
    assert sections["search"]["trials"] == 4
    assert sections["bias_variance"]["dominant"] == report["bias_variance"]["dominant"]
    assert sections["next_steps"]["count"] == len(report["next_steps"])


class _Killed(Exception):
    pass


def test_a_killed_run_shows_what_it_reached_and_its_resumed_run_everything(tmp_path,
                                                                           monkeypatch):
    config = load_config(None, ["train.steps=400", "train.eval_every=200",
                                "train.checkpoint_every=200", "model.hidden=[32]",
                                "diagnose.overfit_steps=50", "diagnose.label_errors=false",
                                "diagnose.learning_curve=false", "diagnose.lr_range=false",
                                "search.trials=0"])
    save = Checkpointer.save

    def save_then_die(self, step, state, record):  # killed after the first latest checkpoint
        save(self, step, state, record)
        if self.directory.name == "latest":
            raise _Killed

    monkeypatch.setattr(Checkpointer, "save", save_then_die)
    with pytest.raises(_Killed):
        run_main_job(config, tmp_path, progress=False)
    monkeypatch.undo()
    run_dir = tmp_path / config.name
    text = render_report(run_dir).read_text()
    reached = {"splits", "sanity", "loss_curves", "histograms"}
    off = {"learning_curve", "learning_rate_range", "search"}
    assert _Page(text).sections == {
        s: "shown" if s in reached else "switched off" if s in off else "not reached"
        for s in SECTIONS}
    assert "stopped at step 200 of 400" in text
    report = json.loads((run_dir / "report.json").read_text())
    assert not report["complete"] and report["training"]["steps_done"] == 200
    assert [step for step, _ in report["history"]["train_loss"]][-1] == 200
    assert report["report"]["sections"]["histograms"]["steps"] == [0]

    run_main_job(config, tmp_path, progress=False)  # resumes from step 200
    render_report(run_dir)
    sections = _page(run_dir).sections
    assert {s for s, status in sections.items() if status != "shown"} == off


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"run_dir: expected a run folder .*no such folder"):
        render_report(tmp_path / "absent")
    (tmp_path / "config.toml").write_text('name = "x"\n')
    with pytest.raises(ValueError, match=r"holds no report\.json.*config\.toml"):
        render_report(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # nothing written


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian: apt install "
                                             "chromium); benchmarks/slow_tests.sh notes it")
def test_the_page_draws_its_figures_in_headless_chromium(finished_run, tmp_path):
    """A screenshot of the whole page from disk, no server: the figures are drawn (a page of
    broken-image icons and text has almost no saturated color)."""
    _, run_dir = finished_run
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1280,9000", f"--screenshot={shot}",
                    (run_dir / "report.html").absolute().as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = matplotlib.image.imread(shot)[..., :3]
    colorful = (pixels.max(-1) - pixels.min(-1)) > 0.4
    assert pixels.shape[:2] == (9000, 1280) and colorful.mean() > 0.01


SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "nav",
             "ol", "ul", "li", "a", "section", "span", "table", "thead", "tbody", "tr", "th",
             "td", "img", "b", "i", "code"}
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


class _Markup(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_every_user_string_on_the_page_is_escaped(finished_run, tmp_path):
    """Issue 24: class names from a CSV, tags, file names and config values are the user's;
    none of them becomes markup, each is shown as the text it is."""
    _, source = finished_run
    run_dir = tmp_path / "hostile"
    shutil.copytree(source, run_dir)
    report = json.loads((run_dir / "report.json").read_text())
    names = [f"{HOSTILE}{k}" for k in range(len(report["data"]["class_names"]))]
    report["data"]["class_names"] = names
    report["config"]["name"] = report["config"]["data"]["source"] = HOSTILE
    analysis = report["error_analysis"]
    analysis["worst_mistakes_png"] = None  # tabular data: the mistakes are listed as text
    analysis["tags"] = [{**analysis["categories"][0], "category": HOSTILE}]
    analysis["confusions"][0]["true"] = names[0]
    report["next_steps"][0]["why"] = HOSTILE
    (run_dir / "report.json").write_text(json.dumps(report))
    render_report(run_dir)
    page = _Markup((run_dir / "report.html").read_text())
    assert {tag for tag, _ in page.tags} <= SAFE_TAGS
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
    text = "".join(page.text)
    assert text.count(HOSTILE) >= 6  # title, subtitle, mistakes, tags, confusions, next steps
