"""The import contract of pyproject.toml names every kernel module (so a new kernel cannot escape it)."""

from __future__ import annotations

import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library from Python 3.11")
def test_every_kernel_module_is_under_the_purity_contract() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    listed = set(contracts["kernels are pure: no Pydantic, nothing above them"]["source_modules"])
    models = ROOT / "clvkit" / "valuation" / "models"
    kernels = {f"clvkit.valuation.models.{p.stem}" for p in models.glob("_*.py")
               if p.stem not in ("__init__", "_base", "_count")}
    kernels |= {"clvkit.valuation.value._referral_kernels", "clvkit.tiering._kernels", "clvkit.binding._kernels"}
    assert kernels == listed
