"""Sphinx configuration of the clvkit documentation.

Built in CI by ``.ci/run`` with ``sphinx-build -W --keep-going -b html docs <dir>``: every warning is an error
and every tutorial notebook is executed during the build (a notebook cell that raises fails the build).

Why Sphinx + myst-nb rather than MkDocs + mkdocstrings: clvkit's docstrings are numpydoc, which Sphinx's
napoleon reads natively (sections, cross references, doctest blocks); myst-nb executes the tutorials as part
of the same build, so a tutorial that no longer runs is a failed build, and MyST markdown notebooks are plain
text files that diff and review like code. ``-W`` turns broken references and malformed docstrings into
failures, which mkdocs' strict mode only partly covers for docstrings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Document the checkout being built (not an installed copy elsewhere on the path).
sys.path.insert(0, str(ROOT))
# Notebooks run in a kernel (a separate process): give it the same checkout first on its path.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
# The notebook kernels inherit this environment: draw their figures with the inline backend, as Jupyter does,
# so a figure that is a cell's result is stored as a PNG output and shown as an image in the page (with
# MPLBACKEND=Agg, which CI shells may set, a figure would show only as its text repr).
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

import clvkit  # noqa: E402

project = "clvkit"
author = "clvkit developers"
copyright = "clvkit developers"
release = clvkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]

# -- autodoc / napoleon: numpydoc docstrings --------------------------------------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = False
autodoc_member_order = "groupwise"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_default_options = {"members": True, "show-inheritance": True}
autosummary_generate = False

# -- MyST / notebooks -------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"  # every build runs every notebook: what CI checks is what readers see
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_show_tb = True
nb_output_stderr = "warn"  # a warning printed by a tutorial cell (deprecation, convergence) fails the -W build
# The covariates tutorial reads CLVTools' apparel data, which the package does not bundle (its licence differs):
# from CLVKIT_SHARED_DATA or ../shared/data beside the repository, as tests/conftest.py finds it (CI places
# shared/ there). The kernel is told the folder; where the data are absent the page is built without executing
# it (code without outputs, as its note says) rather than failing the build of a clone without the data.
SHARED_DATA = Path(os.environ.get("CLVKIT_SHARED_DATA") or ROOT.parent / "shared" / "data").resolve()
# The regularity tutorial reads BTYDplus' grocery cohort the same way.
_SHARED_PAGES = {"tutorials/covariates.md": ("apparel_trans.csv", "apparel_static_cov.csv", "apparel_dyn_cov.csv.gz"),
                 "tutorials/regularity.md": ("grocery_elog.csv",)}
nb_execution_excludepatterns: list[str] = [page for page, files in _SHARED_PAGES.items()
                                           if not all((SHARED_DATA / name).is_file() for name in files)]
if len(nb_execution_excludepatterns) < len(_SHARED_PAGES):
    os.environ["CLVKIT_SHARED_DATA"] = str(SHARED_DATA)

# -- references -------------------------------------------------------------------------------------------
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
}
# The build must not need the network (CI and the bundled data are offline): intersphinx inventories are
# fetched only when CLVKIT_DOCS_INTERSPHINX=1.
if os.environ.get("CLVKIT_DOCS_INTERSPHINX") != "1":
    intersphinx_mapping = {}

# -- HTML -------------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"clvkit {release}"
html_static_path = ["_static"]
html_css_files = ["clvkit.css"]  # plain rules for the tables notebook cells return


# pydantic's machinery on every model: its docstrings describe pydantic, not clvkit.
_PYDANTIC_MEMBERS = {"model_config", "model_fields", "model_computed_fields", "model_post_init"}


def _skip_member(app: object, what: str, name: str, obj: object, skip: bool, options: object) -> bool | None:
    """Skip members that would document something twice or document pydantic rather than clvkit.

    clvkit's NamedTuples document their fields in an ``Attributes`` section (napoleon), so the generated
    ``Alias for field number N`` properties would describe every field twice.
    """
    doc = getattr(obj, "__doc__", None) or ""
    if what == "class" and (name in _PYDANTIC_MEMBERS or doc.startswith("Alias for field number")):
        return True
    return None


def setup(app: object) -> None:
    app.connect("autodoc-skip-member", _skip_member)  # type: ignore[attr-defined]
