"""Regenerate the screenshots in ``docs/images/``: the rendered tutorials and the HTML report.

Not run in CI (the pictures are committed; CI builds the pages they show and checks the report in a browser
in ``tests/test_report.py``). Run it from the repository root after a change to the tutorials' plots or to
the report's look::

    python docs/screenshots.py                        # builds the docs into a temporary folder first (~30 s)
    python docs/screenshots.py --docs /tmp/docs-html  # or takes the pictures of an existing build

What it does: builds the report of the bundled CDNOW sample (calibration to 1997-09-30, observation to
1998-06-30, the synthetic B2B sample as binding data) with :func:`clvkit.report.write_html` into a temporary
folder, opens the pages in a real headless Chromium (selenium; a 1280 x 1000 window) and saves one PNG per
view below, shrunk with Pillow to a palette image when it is over 300 KB.

Needs: selenium, Chromium and its chromedriver (``/usr/bin/chromium`` and ``/usr/bin/chromedriver``, or the
paths in ``CLVKIT_CHROMIUM`` / ``CLVKIT_CHROMEDRIVER``, as the tests), matplotlib, pandas, Sphinx with myst-nb
and furo (the ``docs`` extra) to build the pages, and Pillow.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
WINDOW = (1280, 1000)
MAX_BYTES = 300_000

#: (file name, page, CSS selector and which of its matches is scrolled to the top - None for the top of the
#: page -, extra pixels to scroll after it). Pages are relative to the docs build, or "report" for the report.
VIEWS: tuple[tuple[str, str, str | None, int, int], ...] = (
    ("tutorial-cdnow-diagnostics.png", "tutorials/cdnow-to-clv.html", "#what-the-fitted-model-says", 0, 0),
    ("tutorial-cdnow-tracking.png", "tutorials/cdnow-to-clv.html", "#check-against-the-holdout img", 1, -160),
    ("tutorial-tiering-lorenz.png", "tutorials/tiering-and-binding.html", "#tiers-from-value img", 0, -150),
    ("tutorial-tiering-value-risk.png", "tutorials/tiering-and-binding.html", "#tiers-from-value img", 1, -150),
    ("report-top.png", "report", None, 0, 0),
    ("report-models.png", "report", "#models", 0, 0),
    ("report-tiers.png", "report", "#tiers", 0, 0),
)


def build_docs(out: Path) -> None:
    """Build the HTML docs into ``out`` as CI does (warnings are errors, notebooks executed)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(bin_dir / "sphinx-build"), "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"),
                    str(out)], check=True, env=env)


def write_report(folder: Path) -> Path:
    """The report of the CDNOW sample with the synthetic B2B binding data, written into ``folder``."""
    sys.path.insert(0, str(ROOT))
    from clvkit.binding import load_b2b_sample
    from clvkit.datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow_transactions
    from clvkit.report import write_html

    return write_html(folder / "report.html", load_cdnow_transactions(), customer_id="customer_id", datetime="date",
                      monetary_value="amount", calibration_end=CDNOW_CALIBRATION_END,
                      observation_end=CDNOW_OBSERVATION_END, binding=load_b2b_sample())


def browser() -> Any:
    """Headless Chromium, kept off the network, with the flags of the tests' ``browser`` fixture."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CLVKIT_CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(flag)
    service = Service(os.environ.get("CLVKIT_CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    # The window size includes the browser's frame: fix the page's viewport itself.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
    return driver


def shrink(png: bytes) -> bytes:
    """The PNG as it is when small enough, else as a 256-colour palette image (text stays sharp)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    if out.tell() > MAX_BYTES:
        out = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return out.getvalue()


def shoot(driver: Any, url: str, selector: str | None, index: int, offset: int) -> bytes:
    """Open ``url``, wait for its images, scroll match ``index`` of ``selector`` to the top (plus ``offset``) and
    take the picture."""
    driver.get(url)
    driver.execute_script("return Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
    if selector is not None:
        found = driver.execute_script(
            # 'instant': the theme scrolls smoothly, which would still be moving when the picture is taken
            "const el = document.querySelectorAll(arguments[0])[arguments[1]]; if (!el) return false;"
            "const top = el.getBoundingClientRect().top + window.scrollY + arguments[2];"
            "window.scrollTo({top: top, behavior: 'instant'}); return true;",
            selector, index, offset)
        if not found:
            raise SystemExit(f"{url}: no match {index} of {selector!r}; update VIEWS in {Path(__file__).name}")
    return bytes(driver.get_screenshot_as_png())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, help="an HTML build of docs/ (default: build one now)")
    args = parser.parse_args(argv)
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clvkit-screenshots-") as tmp:
        docs = args.docs
        if docs is None:
            docs = Path(tmp) / "html"
            build_docs(docs)
        report = write_report(Path(tmp))
        driver = browser()
        try:
            for name, page, selector, index, offset in VIEWS:
                url = (report if page == "report" else docs / page).resolve().as_uri()
                data = shrink(shoot(driver, url, selector, index, offset))
                (IMAGES / name).write_bytes(data)
                print(f"{IMAGES / name}: {len(data):,} bytes")
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
