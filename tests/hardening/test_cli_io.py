"""Hardening of the command line's files (issue 10): nothing lost, no raw exception, no partial file.

Each test was written before its fix and failed on main then, except three marked *guard* (the behaviour
was already right; they keep it so). The invariant is the same throughout: a run either succeeds or ends with
one line on stderr and exit status 2, and after a failure no partial or temporary file is left and an old output
is byte-for-byte intact. Fault injection covers a full disk (a small ``RLIMIT_FSIZE`` in a subprocess), an
unwritable folder and a write interrupted midway.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

import clvkit._csvio
from clvkit.cli import main

FIT = ["--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount", "-q"]
HOSTILE_IDS = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)"]  # (the log reader strips
# the spaces, tabs and carriage returns around cells: those two prefixes are checked on the writer below)
B2B_SAMPLE = Path(clvkit._csvio.__file__).parent / "data" / "b2b_sample"


# ------------------------------------------------------------------------------------------ helpers
def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_failure(code: int, err: str, *needles: str) -> None:
    """Exit 2, one error line on stderr (progress lines are silenced by -q), no traceback."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def listing(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_log(path: Path, ids: list[str] | None = None, n: int = 300, seed: int = 7) -> Path:
    """``n`` customers of the bundled CDNOW log (drawn with ``seed``), renamed to ``ids`` when given."""
    from clvkit.datasets import load_cdnow_transactions

    log = load_cdnow_transactions()
    customers = sorted(set(log["customer_id"].tolist()))
    chosen = random.Random(seed).sample(customers, len(ids) if ids else n)
    names = dict(zip(chosen, ids or [f"c{k}" for k in range(n)], strict=True))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["cust", "when", "amount"])
        for cid, when, amount in zip(log["customer_id"].tolist(), log["date"].astype(str).tolist(),
                                     log["amount"].tolist(), strict=True):
            if cid in names:
                w.writerow([names[cid], when, amount])
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A log and the model folder ``clvkit fit`` wrote for it (tests copy the folder before changing it)."""
    root = tmp_path_factory.mktemp("fitted")
    log = write_log(root / "log.csv")
    assert main(["fit", str(log), *FIT, "--output", str(root / "model")]) == 0
    return log, root / "model"


@pytest.fixture()
def model(fitted: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(fitted[1], copy)
    return copy


def rewrite_manifest(folder: Path) -> None:
    """Make manifest.json agree with the files again, as a careless hand edit of the folder would."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name in manifest["files"]:
        manifest["files"][name]["sha256"] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


# ------------------------------------------------------------------------------------------ 1. atomic outputs
def test_fit_writes_a_manifest_naming_every_file_and_its_sha256(model: Path) -> None:
    manifest = json.loads((model / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema"] == "clvkit.cli.model_folder" and manifest["schema_version"] == 1
    files = {p.name for p in model.iterdir()} - {"manifest.json"}
    assert set(manifest["files"]) == files == {"beta_geo.json", "gamma_gamma.json", "summary_settings.json"}
    for name, entry in manifest["files"].items():
        data = (model / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_demo_folder_has_a_manifest_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "demo", "--output", tmp_path / "d", "--top", "0", "-q")
    assert code == 0
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"beta_geo.json", "gamma_gamma.json", "scores.csv", "composite_synthetic.csv"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no temporary sibling left


def test_score_refuses_a_tampered_model_file(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((model / "beta_geo.json").read_text(encoding="utf-8"))
    doc["params"]["a"] *= 1.5  # still a valid model: only the manifest can tell
    (model / "beta_geo.json").write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "beta_geo.json", "manifest")
    assert not (tmp_path / "s.csv").exists()


def test_score_refuses_a_mixed_folder(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    other = write_log(tmp_path / "other.csv", seed=99)
    assert main(["fit", str(other), *FIT, "--output", str(tmp_path / "other")]) == 0
    shutil.copy(tmp_path / "other" / "gamma_gamma.json", model / "gamma_gamma.json")
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "gamma_gamma.json", "manifest")


def test_score_refuses_a_model_file_the_manifest_does_not_list(fitted: tuple[Path, Path], model: Path,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(model / "beta_geo.json", model / "pareto_nbd.json")
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "pareto_nbd.json", "manifest")


def test_score_refuses_an_old_folder_without_manifest_and_says_to_refit(
        fitted: tuple[Path, Path], model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (model / "manifest.json").unlink()
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "manifest.json", "re-run 'clvkit fit'")


@pytest.mark.parametrize("content", ["", "{", "[1, 2]", '{"schema": "clvkit.cli.model_folder"}',
                                     '{"schema": "clvkit.cli.model_folder", "schema_version": true, "files": {}}'])
def test_score_refuses_a_broken_manifest(fitted: tuple[Path, Path], model: Path, tmp_path: Path, content: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (model / "manifest.json").write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "manifest.json")


def test_every_writing_command_refuses_an_existing_output_without_force(
        fitted: tuple[Path, Path], model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = fitted[0]
    scores = tmp_path / "scores.csv"
    scores.write_text("old\n", encoding="utf-8")
    code, _, err = run(capsys, "score", log, "--models", model, "--output", scores, "-q")
    assert_clean_failure(code, err, str(scores), "--force")
    assert scores.read_text(encoding="utf-8") == "old\n"
    before = listing(model)
    code, _, err = run(capsys, "fit", log, *FIT, "--output", model)
    assert_clean_failure(code, err, str(model), "--force")
    assert listing(model) == before
    tiers = tmp_path / "tiers.csv"
    tiers.write_text("old\n", encoding="utf-8")
    assert main(["score", str(log), "--models", str(model), "--output", str(tmp_path / "new.csv"), "-q"]) == 0
    code, _, err = run(capsys, "tier", tmp_path / "new.csv", "--policy", "five-a", "--value-column", "clv",
                       "--output", tiers, "-q")
    assert_clean_failure(code, err, str(tiers), "--force")
    assert tiers.read_text(encoding="utf-8") == "old\n"
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "scores.csv").write_text("old\n", encoding="utf-8")
    code, _, err = run(capsys, "demo", "--output", demo, "-q")
    assert_clean_failure(code, err, str(demo), "--force")
    assert listing(demo) == {"scores.csv": b"old\n"}


def test_force_replaces_outputs(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    log = fitted[0]
    scores = tmp_path / "scores.csv"
    scores.write_text("old\n", encoding="utf-8")
    assert main(["score", str(log), "--models", str(model), "--output", str(scores), "--force", "-q"]) == 0
    assert scores.read_text(encoding="utf-8").startswith("customer_id,")
    assert main(["fit", str(log), *FIT, "--output", str(model), "--force"]) == 0
    assert json.loads((model / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "scores.csv"]  # nothing left beside them
    capsys.readouterr()


def test_force_never_replaces_a_folder_holding_other_files(fitted: tuple[Path, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    log = shutil.copy(fitted[0], folder / "log.csv")
    code, _, err = run(capsys, "fit", log, *FIT, "--output", folder, "--force")
    assert_clean_failure(code, err, "log.csv")
    assert listing(folder) == {"log.csv": fitted[0].read_bytes()}
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine\n", encoding="utf-8")
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--output", notes, "--force")
    assert_clean_failure(code, err, "notes.txt", "clvkit did not write")
    assert listing(notes) == {"notes.txt": b"mine\n"}
    model = tmp_path / "model"
    assert main(["fit", str(fitted[0]), *FIT, "--output", str(model)]) == 0
    (model / "scores.csv").write_text("mine\n", encoding="utf-8")  # a user's file beside the models
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--output", model, "--force")
    assert_clean_failure(code, err, "scores.csv", "clvkit did not write")
    assert (model / "scores.csv").read_text(encoding="utf-8") == "mine\n"
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--output", notes / "notes.txt", "--force")
    assert_clean_failure(code, err, "not a folder")
    assert listing(notes) == {"notes.txt": b"mine\n"}


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink"])
def test_output_equal_to_an_input_is_refused(fitted: tuple[Path, Path], model: Path, tmp_path: Path, spelling: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    log = Path(shutil.copy(fitted[0], tmp_path / "log.csv"))
    original = log.read_bytes()
    out = {"same": log, "dotdot": tmp_path / "sub" / ".." / "log.csv", "symlink": tmp_path / "link.csv"}[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "symlink":
        out.symlink_to(log)
    for argv in (["score", log, "--models", model, "--output", out, "--force", "-q"],
                 ["tier", log, "--policy", "five-a", "--value-column", "amount", "--output", out, "--force", "-q"],
                 ["score", log, "--models", model, "--output", model / "beta_geo.json", "--force", "-q"]):
        code, _, err = run(capsys, *argv)
        assert_clean_failure(code, err, "input")
        assert log.read_bytes() == original
    code, _, err = run(capsys, "fit", log, *FIT, "--output", out, "--force")
    assert_clean_failure(code, err)
    assert log.read_bytes() == original


def _interrupted_writer(real: Any) -> Any:
    """A csv.writer whose writerows writes some rows, then fails like a full disk."""
    class Writer:
        def __init__(self, fh: Any, **kwargs: Any) -> None:
            self._w = real(fh, **kwargs)
            self.writerow = self._w.writerow

        def writerows(self, rows: Any) -> None:
            for k, row in enumerate(rows):
                if k == 10:
                    raise OSError(28, "No space left on device")
                self._w.writerow(row)

    return Writer


def test_interrupted_score_leaves_the_old_scores_intact(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    scores = tmp_path / "out" / "scores.csv"
    scores.parent.mkdir()
    scores.write_text("old,scores\n", encoding="utf-8")
    monkeypatch.setattr(clvkit._csvio.csv, "writer", _interrupted_writer(csv.writer))
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", scores, "--force", "-q")
    assert_clean_failure(code, err, "No space left on device")
    assert listing(scores.parent) == {"scores.csv": b"old,scores\n"}


def test_interrupted_score_with_referrals_writes_neither_file(fitted: tuple[Path, Path], model: Path,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    referrals = tmp_path / "referrals.csv"
    referrals.write_text("referrer,referred\nc1,c2\nc1,c3\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    real = csv.writer
    calls = []

    def second_fails(fh: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return (_interrupted_writer(real) if len(calls) == 2 else real)(fh, **kwargs)

    monkeypatch.setattr(clvkit._csvio.csv, "writer", second_fails)
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", out / "s.csv",
                       "--referrals", referrals, "-q")
    assert_clean_failure(code, err)
    assert listing(out) == {}


def test_interrupted_fit_leaves_the_old_model_folder_intact(fitted: tuple[Path, Path], model: Path,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    before = listing(model)
    from clvkit.valuation import FittedGammaGamma

    def fail(self: Any, *args: Any, **kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FittedGammaGamma, "to_json", fail)  # beta_geo.json is written, gamma_gamma.json fails
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--output", model, "--force")
    assert_clean_failure(code, err, "No space left on device")
    assert listing(model) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def _limited(limit: int) -> Any:
    def preexec() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_disk_full_in_a_subprocess_leaves_nothing_partial(fitted: tuple[Path, Path], model: Path, tmp_path: Path
                                                          ) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").write_text("old\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "clvkit", "score", str(fitted[0]), "--models", str(model),
                           "--output", str(out / "scores.csv"), "--force", "-q"],
                          capture_output=True, text=True, check=False, preexec_fn=_limited(2048))
    assert_clean_failure(proc.returncode, proc.stderr, "scores.csv")
    assert listing(out) == {"scores.csv": b"old\n"}
    before = listing(model)
    proc = subprocess.run([sys.executable, "-m", "clvkit", "fit", str(fitted[0]), *FIT, "--output", str(model),
                           "--force"], capture_output=True, text=True, check=False, preexec_fn=_limited(600))
    assert_clean_failure(proc.returncode, proc.stderr)
    assert listing(model) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "out"]


@pytest.fixture()
def unwritable(tmp_path: Path) -> Any:
    """A folder this process cannot write in: a read-only one, or for root (who writes anywhere) sysfs."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys")
    try:
        (folder / "clvkit-probe").touch()
    except PermissionError:
        yield folder
        return
    except OSError:  # pragma: no cover - no sysfs
        pass
    else:  # pragma: no cover - a writable /sys
        (folder / "clvkit-probe").unlink()
    pytest.skip("no folder is read-only for root here")  # pragma: no cover


def test_unwritable_folder_is_a_clean_error(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                            unwritable: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in unwritable.iterdir())
    out = unwritable / "clvkit-scores.csv"
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", out, "-q")
    assert_clean_failure(code, err, f": {out}.")
    assert "Permission denied" in err or "Operation not permitted" in err
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--output", unwritable / "clvkit-model")
    assert_clean_failure(code, err, f": {unwritable / 'clvkit-model'}.")  # the output, not a temporary name
    assert "Permission denied" in err or "Operation not permitted" in err
    assert sorted(p.name for p in unwritable.iterdir()) == before


def test_os_errors_exit_2_naming_the_path(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    # an output that is a folder, and an output below a plain file
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path, "--force", "-q")
    assert_clean_failure(code, err, f"Is a directory: {tmp_path}.")
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", fitted[0] / "s.csv", "-q")
    assert_clean_failure(code, err, str(fitted[0]))
    # an input that is a folder, in every command that reads one
    for argv in (["fit", tmp_path, *FIT, "--output", tmp_path / "m"],
                 ["score", tmp_path, "--models", model, "--output", tmp_path / "s.csv", "-q"],
                 ["tier", tmp_path, "--policy", "five-a", "-q"],
                 ["tier", fitted[0], "--policy", "five-a", "--config", tmp_path, "-q"],
                 ["binding", fitted[0], "-q"]):
        code, _, err = run(capsys, *argv)
        assert_clean_failure(code, err, str(argv[1] if argv[0] != "tier" or "--config" not in argv else tmp_path))
    # permission denied while reading (simulated: root reads anything)
    real_open = os.open

    def deny(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("log.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    def deny_path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "log.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_path_open(self, *args, **kwargs)

    real_path_open = Path.open
    monkeypatch.setattr(os, "open", deny)
    monkeypatch.setattr(Path, "open", deny_path_open)
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--output", tmp_path / "m2")
    assert_clean_failure(code, err, "Permission denied", str(fitted[0]))


# ------------------------------------------------------------------------------------------ 2. strict model folder
@pytest.mark.parametrize("content", ["", '{"schema": "clvkit.cli.summary_settings", "schema_ver',
                                     '{"schema": "clvkit.cli.summary_settings", "schema_version": 1}',
                                     '{"schema": "clvkit.cli.summary_settings", "schema_version": 1, '
                                     '"customer_id": "cust", "datetime": "when", "monetary_value": "amount", '
                                     '"freq": 7, "time_unit": "W", "date_format": null}',
                                     '{"schema": "clvkit.cli.summary_settings", "schema_version": 1, '
                                     '"customer_id": "cust", "datetime": "when", "monetary_value": "amount", '
                                     '"freq": "fortnight", "time_unit": "W", "date_format": null}',
                                     "[" * 100_000 + "]" * 100_000])
def test_invalid_summary_settings_is_an_error_naming_the_file(fitted: tuple[Path, Path], model: Path,
                                                              tmp_path: Path, content: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (model / "summary_settings.json").write_text(content, encoding="utf-8")
    rewrite_manifest(model)  # consistent with the manifest: only strict parsing can catch it
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "summary_settings.json")
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("content", ["", '{"schema": "clvkit.fitted_model", "schema_version": 1, "mo',
                                     "not json", "[" * 100_000 + "]" * 100_000])
def test_corrupt_model_file_is_an_error_naming_the_file(fitted: tuple[Path, Path], model: Path, tmp_path: Path,
                                                        content: str, capsys: pytest.CaptureFixture[str]) -> None:
    (model / "beta_geo.json").write_text(content, encoding="utf-8")
    rewrite_manifest(model)
    code, _, err = run(capsys, "score", fitted[0], "--models", model, "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "beta_geo.json")
    assert "No transaction model" not in err
    code, _, err = run(capsys, "score", fitted[0], "--model", model / "beta_geo.json", "--customer-id", "cust",
                       "--datetime", "when", "--spend", "10", "--output", tmp_path / "s.csv", "-q")
    assert_clean_failure(code, err, "beta_geo.json")


# ------------------------------------------------------------------------------------------ 3. raw exceptions
def test_truncated_gzip_is_a_clean_error_everywhere(tmp_path: Path, fitted: tuple[Path, Path], model: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = gzip.compress(fitted[0].read_bytes())
    log = tmp_path / "log.csv.gz"
    log.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "fit", log, *FIT, "--output", tmp_path / "m")
    assert_clean_failure(code, err, "gzip")
    code, _, err = run(capsys, "tier", log, "--policy", "five-a", "-q")
    assert_clean_failure(code, err, "gzip")
    # bytes that are not UTF-8 in the last line before the cut: the search for their line met the cut and raised
    # EOFError. Deflate flushed after those bytes, then cut: every byte is there, the end-of-stream marker is not.
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"cust,when,amount\n" + b"c1,1997-01-01,1\n" * 5000 + b"c\xe9,1997"
    log.write_bytes(gzip.compress(b"")[:10] + deflate.compress(body) + deflate.flush(zlib.Z_SYNC_FLUSH))
    code, _, err = run(capsys, "fit", log, *FIT, "--output", tmp_path / "m")
    assert_clean_failure(code, err, "not UTF-8", "line 5002")


@pytest.mark.parametrize("delimiter", ["", ";;", "\n", '"'])
def test_bad_delimiter_is_a_usage_error(fitted: tuple[Path, Path], tmp_path: Path, delimiter: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fit", fitted[0], *FIT, "--delimiter", delimiter, "--output", tmp_path / "m")
    assert code == 2 and "--delimiter" in err and "Traceback" not in err


# guard: already a clean error on main
def test_tier_reads_latin1_and_a_bom_like_every_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("customer_id,value\nc1,1\nc\xe9,2.5\n".encode("latin-1"))
    code, _, err = run(capsys, "tier", path, "--policy", "five-a", "-q")
    assert_clean_failure(code, err, "not UTF-8", "line 3")
    path.write_bytes(b"\xef\xbb\xbfcustomer_id,value\nc1,1\nc2,2.5\n")
    code, out, _ = run(capsys, "tier", path, "--policy", "key-customers", "-q")
    assert code == 0 and "2 customers" in out


# guard: already a clean error on main (issue 10 saw a traceback in an older build)
@pytest.mark.parametrize("content", [b"\x00\x01\x02garbage\xff\xfe", b"garbage\n\"x,,\n", b"project_id\n\x00\n",
                                     b"\xef\xbb\xbfproject_id,customer_id,start,end\nP1,C001,not a date,\n"])
def test_garbage_projects_file_in_binding_is_a_clean_error(tmp_path: Path, content: bytes,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "b2b"
    shutil.copytree(B2B_SAMPLE, folder)
    (folder / "projects.csv").write_bytes(content)
    code, _, err = run(capsys, "binding", folder, "-q")
    assert_clean_failure(code, err, "projects")


def test_long_and_nested_config_json_is_decided_without_the_os(fitted: tuple[Path, Path], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    long_labels = json.dumps({"share": 0.1, "labels": ["x" * 5000, "key"]})
    code, _, err = run(capsys, "tier", fitted[0], "--policy", "key-customers", "--value-column", "amount",
                         "--config", long_labels, "-q")
    assert code == 0, err
    for nested in ("[" * 100_000 + "]" * 100_000, '{"cut": ' * 5000 + "1" + "}" * 5000):
        code, _, err = run(capsys, "tier", fitted[0], "--policy", "five-a", "--config", nested, "-q")
        assert_clean_failure(code, err, "--config")
        config = tmp_path / "nested.json"
        config.write_text(nested, encoding="utf-8")
        code, _, err = run(capsys, "tier", fitted[0], "--policy", "five-a", "--config", config, "-q")
        assert_clean_failure(code, err, "nested.json")
        code, _, err = run(capsys, "binding", "--config", config, "-q")
        assert_clean_failure(code, err, "nested.json")
    config.write_bytes(b'{"share": 0.\xe9}')
    code, _, err = run(capsys, "tier", fitted[0], "--policy", "key-customers", "--config", config, "-q")
    assert_clean_failure(code, err, "nested.json", "UTF-8")
    code, _, err = run(capsys, "tier", fitted[0], "--policy", "key-customers", "--config", tmp_path / "no.json",
                       "-q")
    assert_clean_failure(code, err, "no.json")


def test_binding_config_is_json_text_or_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "binding", "--config", '{"min_strength": 0.2}', "--top", "1", "--lang", "en", "-q")
    assert code == 0 and "SYNTHETIC SAMPLE DATA" in out, err
    code, _, err = run(capsys, "binding", "--config", '{"min_strength": "' + "x" * 5000 + '"}', "-q")
    assert_clean_failure(code, err, "--config", "min_strength")
    assert "File name too long" not in err


def test_text_history_columns_are_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer_id,value,p1,p2\nc1,1,2,x\nc2,2,3,4\n", encoding="utf-8")
    code, _, err = run(capsys, "tier", path, "--policy", "loyalty", "--history-columns", "p1", "p2", "-q")
    assert_clean_failure(code, err, "'p2'", "--history-columns")


def test_a_missing_input_is_exit_2_in_every_command(tmp_path: Path, model: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.csv"
    for argv in (["fit", missing, *FIT, "--output", tmp_path / "m"],
                 ["score", missing, "--models", model, "--output", tmp_path / "s.csv", "-q"],
                 ["tier", missing, "--policy", "five-a", "-q"],
                 ["binding", tmp_path / "missing", "-q"],
                 ["binding", "--config", missing, "-q"]):
        code, _, err = run(capsys, *argv)
        assert_clean_failure(code, err, "missing")


# ------------------------------------------------------------------------------------------ 4. mixed time zones
def test_naive_and_offset_times_in_one_log_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "mixed.csv"
    log.write_text("cust,when,amount\n1,1997-01-01,5\n1,1997-02-01T10:00:00+05:00,6\n2,1997-01-03,7\n"
                   "2,1997-03-01 12:00:00+05:00,8\n", encoding="utf-8")
    code, _, err = run(capsys, "fit", log, *FIT, "--output", tmp_path / "m")
    assert_clean_failure(code, err, "'when'", "mixes time zones", "line 3")
    assert not (tmp_path / "m").exists()
    log.write_text("cust,when,amount\n1,1997-01-01T00:00:00+05:00,5\n1,1997-02-01T10:00:00+02:00,6\n",
                   encoding="utf-8")  # offsets only: instants, converted to UTC as documented
    assert main(["fit", str(log), *FIT, "--output", str(tmp_path / "m")]) in (0, 2)
    assert "mixes time zones" not in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ 5. formula injection
def test_formula_prefixes_are_neutralised_in_every_csv_the_cli_writes(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    ids = HOSTILE_IDS + [f"c{i}" for i in range(300)]
    log = write_log(tmp_path / "log.csv", ids=ids)
    assert main(["fit", str(log), *FIT, "--output", str(tmp_path / "m")]) == 0
    referrals = tmp_path / "referrals.csv"
    with referrals.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["referrer", "referred"], [HOSTILE_IDS[0], HOSTILE_IDS[1]], ["c1", HOSTILE_IDS[3]]])
    assert main(["score", str(log), "--models", str(tmp_path / "m"), "--output", str(tmp_path / "s.csv"),
                 "--referrals", str(referrals), "-q"]) == 0
    assert main(["tier", str(tmp_path / "s.csv"), "--policy", "five-a", "--value-column", "clv", "--explain",
                 "--output", str(tmp_path / "t.csv"), "-q"]) == 0
    capsys.readouterr()
    for name in ("s.csv", "s_composite.csv", "t.csv"):
        with (tmp_path / name).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        written = {r["customer_id"] for r in rows}
        for hostile in HOSTILE_IDS:
            assert hostile not in written and "'" + hostile in written, (name, hostile)
        for row in rows:
            for key, cell in row.items():
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, key, cell)
                if cell.startswith("-"):
                    float(cell)  # only numbers may start with a minus sign


def test_numbers_are_never_altered(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    clvkit._csvio.write_csv(path, {"id": ["-2", "=1+1", "-2+3", "1e5", "\tx", "\rx", "@a"],
                                   "v": [-2.5, -1.0, 0.0, 3.0, -1e300, float("-inf"), -0.0]})
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["id", "v"], ["-2", "-2.5"], ["'=1+1", "-1.0"], ["'-2+3", "0.0"], ["1e5", "3.0"],
                    ["'\tx", "-1e+300"], ["'\rx", "-inf"], ["'@a", "-0.0"]]


# ------------------------------------------------------------------------------------------ 6. every CSV reader
def _readers(tmp_path: Path, model: Path, log: Path) -> dict[str, tuple[Path, list[Any]]]:
    folder = tmp_path / "b2b"
    if not folder.exists():
        shutil.copytree(B2B_SAMPLE, folder)
    referrals = tmp_path / "referrals.csv"
    return {
        "fit log": (log, ["fit", log, *FIT, "--output", tmp_path / "m", "--force"]),
        "score referrals": (referrals, ["score", log, "--models", model, "--output", tmp_path / "s.csv",
                                        "--referrals", referrals, "--force", "-q"]),
        "tier input": (tmp_path / "tier.csv", ["tier", tmp_path / "tier.csv", "--policy", "key-customers", "-q"]),
        "binding table": (folder / "employees.csv", ["binding", folder, "-q"]),
    }


# guard: each reader already did this on main (through clvkit._csvio); this checks all four in one place
def test_every_csv_reader_accepts_a_bom_and_names_the_line_of_bad_bytes(fitted: tuple[Path, Path], model: Path,
                                                                       tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    log = Path(shutil.copy(fitted[0], tmp_path / "log.csv"))
    (tmp_path / "referrals.csv").write_text("referrer,referred\nc1,c2\n", encoding="utf-8")
    (tmp_path / "tier.csv").write_text("customer_id,value\nc1,1\nc2,2\n", encoding="utf-8")
    for what, (path, argv) in _readers(tmp_path, model, log).items():
        good = path.read_bytes()
        path.write_bytes(b"\xef\xbb\xbf" + good)
        code, _, err = run(capsys, *argv)
        assert code == 0, (what, err)
        lines = good.split(b"\n")
        lines[1] = lines[1] + b"\xe9"
        path.write_bytes(b"\n".join(lines))
        code, _, err = run(capsys, *argv)
        assert_clean_failure(code, err, "not UTF-8", "line 2")
        path.write_bytes(good)
