"""binsum.__version__ tells the truth about CHANGELOG.md.

Between releases CHANGELOG.md opens with an ``[Unreleased]`` section and the
version is the next release's development version (``X.Y.Z.devN``, after
the last release): a build from main never claims to be a release. A release
commit (docs/releasing.md) gives that section the version, and then
``__version__`` is exactly the first version heading. The CHANGELOG is found
beside the tests folder (as the README is, tests/_examples.py); where it is
not there (tests copied without it) the checks of it skip.
"""

from __future__ import annotations

import re

import pytest
from _examples import ROOT
from packaging.version import Version

import binsum

CHANGELOG = ROOT / "CHANGELOG.md"
HEADING = re.compile(
    r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\d{4}-\d\d-\d\d))?$", re.M
)
LINK = re.compile(r"^\[(?P<name>[^\]]+)\]: (?P<url>\S+)$", re.M)

needs_changelog = pytest.mark.skipif(
    not CHANGELOG.exists(), reason=f"no CHANGELOG.md beside the tests ({ROOT})"
)


def test_version_is_pep440() -> None:
    version = Version(binsum.__version__)
    assert str(version) == binsum.__version__, "write the version normalised"
    assert version.local is None, "a local version (+...) cannot be uploaded"


@needs_changelog
def test_version_matches_the_changelog() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    headings = [(m["name"], m["date"]) for m in HEADING.finditer(text)]
    assert headings, "CHANGELOG.md: no '## [...]' headings"
    released = [Version(name) for name, date in headings if name != "Unreleased"]
    assert all(date for name, date in headings if name != "Unreleased"), (
        "every released version's heading has its date: ## [X.Y.Z] - YYYY-MM-DD"
    )
    assert released == sorted(released, reverse=True), "newest release first"
    version = Version(binsum.__version__)
    first = headings[0][0]
    if first == "Unreleased":
        assert version.is_devrelease, (
            f"CHANGELOG.md has an Unreleased section, so __version__ must be the "
            f"next release's X.Y.Z.devN, not {version}"
        )
        assert not released or version > released[0], (
            f"__version__ {version} is not after the last release {released[0]}"
        )
    else:
        assert version == Version(first) and not version.is_devrelease, (
            f"the newest CHANGELOG.md heading is {first}; __version__ is {version}"
        )
    assert [name for name, _ in headings].count("Unreleased") <= 1


@needs_changelog
def test_changelog_links() -> None:
    """Each heading has its link below, [Unreleased] comparing the last
    release with HEAD."""
    text = CHANGELOG.read_text(encoding="utf-8")
    names = [m["name"] for m in HEADING.finditer(text)]
    links = {m["name"]: m["url"] for m in LINK.finditer(text)}
    assert sorted(links) == sorted(names), "one link per heading, no other"
    released = [n for n in names if n != "Unreleased"]
    if "Unreleased" in links and released:
        assert links["Unreleased"].endswith(f"/compare/v{released[0]}...HEAD")
