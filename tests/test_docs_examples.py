"""Every example in the documentation's own pages (docs/*.md) runs as written.

The pages that include README sections are covered by test_readme.py; this
runs what the pages themselves contain, one namespace and one folder per
page, with the conventions of tests/_examples.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _examples import (
    ROOT,
    check_document_commands,
    check_document_python,
    parse,
    skip_unless_compiled,
)

PAGES = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.skipif(not PAGES, reason=f"no docs/*.md beside the tests ({ROOT})")
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = parse(page)
    if not doc.python and not doc.commands():
        return  # nothing to run (its examples, if any, come from the README)
    skip_unless_compiled()
    check_document_python(doc, tmp_path, monkeypatch)
    check_document_commands(doc, tmp_path)
