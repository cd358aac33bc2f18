"""The documentation site (``docs/``, MkDocs with Material): it builds strictly (no broken link, no page
outside the navigation), works offline, shows only pictures that exist, and its command line reference is
the parser's own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PICTURE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)|<img[^>]+src=\"([^\"]+)\"")
EXTERNAL_LOAD = re.compile(r"<(?:script|img)[^>]+src=\"https?://|<link[^>]+rel=\"stylesheet\"[^>]+href=\"https?://")


def test_the_command_line_reference_is_generated_from_the_parser():
    from scripts.cli_reference import TARGET, reference

    assert TARGET.read_text(encoding="utf-8") == reference(), "run: python -m scripts.cli_reference"
    for command in ("predict", "occlusion", "classmap", "activations", "hardware", "layers", "fetch"):
        assert f"## `cnnviz {command}`" in reference()


def test_the_site_builds_strictly_and_loads_nothing_from_the_network(tmp_path):
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert built.returncode == 0, built.stderr
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 4
    for page in pages:
        assert not EXTERNAL_LOAD.search(page.read_text(encoding="utf-8")), page  # a lecture room may have no network


def test_every_picture_the_docs_show_exists():
    for document in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for match in PICTURE.finditer(document.read_text(encoding="utf-8")):
            target = match.group(1) or match.group(2)
            if target.startswith(("http://", "https://")):
                raise AssertionError(f"{document.name}: {target} is loaded from the network")
            assert (document.parent / target).resolve().is_file(), f"{document.name}: {target} is missing"


def _pictures(document: Path) -> set[str]:
    return {m.group(1) or m.group(2) for m in PICTURE.finditer(document.read_text(encoding="utf-8"))}


def test_the_readme_is_short_and_shows_three_real_pages():
    readme = ROOT / "README.md"
    assert readme.stat().st_size < 10_000
    shown = _pictures(readme)
    for name in ("predict", "deconvnet", "occlusion"):
        assert f"assets/screenshots/{name}-en.png" in shown
    text = readme.read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "python3 -m pip install -r requirements-dev.txt && python3 -m pytest"
    assert test_command in text and test_command in ci  # CI runs the README's own command
    assert "python3 -m pip install -r requirements.txt && python3 -m streamlit run app.py" in text


def test_every_page_has_a_guide_with_its_screenshot_and_every_screenshot_a_page():
    from ui.pages import declared_pages

    pages = declared_pages()
    for page in pages:
        guide = DOCS / ("labs.md" if page.group == "labs" else f"pages/{page.name}.md")
        assert f"assets/screenshots/{page.name}-en.png" in {p.rsplit("../", 1)[-1] for p in _pictures(guide)}, guide
    from scripts.screenshots import SCENES

    made = {f"{name}-{lang}.png" for name in [p.name for p in pages] + list(SCENES) for lang in ("en", "pt", "es")}
    for picture in (ROOT / "assets" / "screenshots").glob("*.png"):
        assert picture.name in made, f"{picture.name}: no page makes it (python -m scripts.screenshots)"
