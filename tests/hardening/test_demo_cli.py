"""Hypothesis over ``clvkit demo``'s options: exit 0 with a whole output folder, or exit 2 with one line on stderr.

Every option (``--top``, ``--horizon``, ``--period``, ``--discount-rate``, ``--margin``, ``--output``,
``--force``) takes hostile values, against an output that is absent, an empty folder, a folder of someone
else's files, a file, or an earlier demo's folder. After a failure nothing under the test's folder has changed
(byte for byte) and no temporary file is left; after a success the folder holds exactly the demo's files, as its
manifest says. The tests at the end each pin a defect the probes found; each failed before its fix.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvkit.datasets
from clvkit.cli import main

from .test_cli_fuzz import OPTION_VALUES, _judge, _no_partial_files, _run
from .test_cli_io import assert_clean_failure, listing

DEMO_FILES = {"beta_geo.json", "gamma_gamma.json", "scores.csv", "composite_synthetic.csv", "manifest.json"}
VALUES = st.one_of(OPTION_VALUES, st.sampled_from(["3", "0", "-0", "1e308", "99999999999999999999", " 3", "0x10",
                                                   "1_000", "0.5", "1", "Y", "h", "30", "inf", "-inf", "\u00e9",
                                                   "--force", "a\x00b"]))
STATES = st.sampled_from(["absent", "empty folder", "foreign files", "a file", "earlier demo"])


@pytest.fixture(scope="module")
def earlier_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of one successful demo run, to lay down as an existing output."""
    out = tmp_path_factory.mktemp("demo") / "out"
    status, stderr = _run(["demo", "-q", "--top", "0", "--output", str(out)])
    assert status == 0, stderr
    return listing(out)


def _prepare(root: Path, state: str, earlier: dict[str, bytes]) -> Path:
    out = root / "out"
    if state == "empty folder":
        out.mkdir()
    elif state == "foreign files":
        out.mkdir()
        (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    elif state == "a file":
        out.write_text("a file\n", encoding="utf-8")
    elif state == "earlier demo":
        out.mkdir()
        for name, data in earlier.items():
            (out / name).write_bytes(data)
    return out


def _check_success(out: Path) -> None:
    files = listing(out)
    assert set(files) == DEMO_FILES, sorted(files)
    manifest = json.loads(files["manifest.json"])
    for name, entry in manifest["files"].items():
        assert entry == {"sha256": hashlib.sha256(files[name]).hexdigest(), "bytes": len(files[name])}


@settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)
@given(option=st.sampled_from(["--top", "--horizon", "--period", "--discount-rate", "--margin", "--output"]),
       value=VALUES, state=STATES, force=st.booleans())
def test_demo_on_hostile_options(earlier_demo: dict[str, bytes], option: str, value: str, state: str,
                                 force: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = _prepare(root, state, earlier_demo)
        # --output values stay inside the test's folder: a hostile name, not a hostile place
        target = str(root / value) if option == "--output" else str(out)
        argv = ["demo", "-q", "--output", target] + ([option, value] if option != "--output" else [])
        argv += ["--force"] if force else []
        before = listing(root)
        status, stderr = _run(argv)
        _judge("cli demo", status, stderr)
        _no_partial_files(root)
        if status == 0:
            _check_success(Path(target))
            assert state in ("absent", "empty folder", "earlier demo") or option == "--output"
        else:
            assert listing(root) == before  # a failed run changes nothing


# ------------------------------------------------------------------------------------------ defects found
def test_a_bad_period_is_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by test_demo_on_hostile_options: --period fortnight loaded the sample, fitted both models and printed
    # the results before failing at the scoring step.
    def refuse() -> None:
        raise AssertionError("the sample was loaded before --period was checked")

    monkeypatch.setattr(clvkit.datasets, "load_cdnow_transactions", refuse)
    code = main(["demo", "-q", "--output", str(tmp_path / "d"), "--period", "fortnight"])
    out, err = capsys.readouterr()
    assert_clean_failure(code, err, "--period")
    assert out == "" and not (tmp_path / "d").exists()


def test_the_composite_file_is_announced_only_once_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by the probes: with an output that could not be written (e.g. under /proc), stdout said "synthetic
    # composite values written to .../composite_synthetic.csv" before the write failed.
    import clvkit.cli._folder

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(clvkit.cli._folder, "write_folder_atomically", disk_full)
    code = main(["demo", "-q", "--top", "0", "--output", str(tmp_path / "d")])
    out, err = capsys.readouterr()
    assert_clean_failure(code, err, "No space left on device")
    assert "written to" not in out and not (tmp_path / "d").exists()


def test_a_nul_byte_in_an_argument_is_a_clean_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Found by test_demo_on_hostile_options: main(["demo", "--output", "a\x00b"]) raised ValueError ("embedded null
    # byte") out of main(); argv from a shell cannot hold NUL, but main() is the Python entry point too.
    for argv in (["demo", "-q", "--output", str(tmp_path / "a\x00b")], ["demo", "-q", "--period", "W\x00"]):
        code = main(argv)
        _, err = capsys.readouterr()
        assert_clean_failure(code, err, "NUL byte")
    assert list(tmp_path.iterdir()) == []
