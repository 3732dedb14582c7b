"""imajin.lazy: package attributes imported on first read, under one import lock."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from imajin.lazy import HEAVY_IMPORTS, import_heavy, lazy_attributes


def test_an_attribute_is_imported_from_its_module_when_first_read() -> None:
    getattr_ = lazy_attributes("pkg", {"dumps": "json", "sqrt": "math"})
    import json  # noqa: PLC0415
    import math  # noqa: PLC0415

    assert getattr_("dumps") is json.dumps
    assert getattr_("sqrt") is math.sqrt


def test_an_unknown_attribute_is_an_attribute_error_naming_package_and_name() -> None:
    getattr_ = lazy_attributes("imajin.somewhere", {"dumps": "json"})
    with pytest.raises(AttributeError, match=r"'imajin.somewhere' has no attribute 'loads'"):
        getattr_("loads")


def _free_in_another_thread() -> bool:
    seen: list[bool] = []

    def probe() -> None:
        taken = HEAVY_IMPORTS.acquire(blocking=False)
        seen.append(taken)
        if taken:
            HEAVY_IMPORTS.release()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return seen == [True]


def test_import_heavy_holds_the_shared_lock_during_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module that, while being imported, asks another thread whether the lock is free.
    (tmp_path / "imajin_lock_probe.py").write_text(
        "from tests.test_lazy import _free_in_another_thread\n"
        "FREE_DURING_IMPORT = _free_in_another_thread()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = import_heavy("imajin_lock_probe")
    assert module.FREE_DURING_IMPORT is False
    assert _free_in_another_thread()  # released after
    sys.modules.pop("imajin_lock_probe", None)


def test_importing_the_engine_package_loads_no_torch_until_an_attribute_is_read() -> None:
    code = (
        "import sys, imajin.engine as e; assert 'torch' not in sys.modules, 'eager'; "
        "e.Engine; assert 'torch' in sys.modules, 'never loaded'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
