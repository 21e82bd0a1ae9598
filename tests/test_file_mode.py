"""Files binsum writes get the usual permissions, not a temp file's 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from binsum import BinarySumRNN


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_model_honours_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.npz"
        BinarySumRNN(hidden_size=2, seed=0, backend="python").save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
