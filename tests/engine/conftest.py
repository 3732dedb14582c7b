"""Engine helpers for these tests (tiny-model fixtures come from imajin.testing.pytest_plugin)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imajin.engine import Engine, EngineSettings, build_engine
from imajin.engine.loaders import LOADERS, PipelineLoader


class CountingLoader(PipelineLoader):
    """Wraps a real loader, counting loads; ``refuse`` makes any load fail the test."""

    def __init__(self, inner: PipelineLoader, *, refuse: bool = False) -> None:
        super().__init__(inner.family)
        self.inner = inner
        self.refuse = refuse
        self.loads = 0

    def load(self, spec: Any, **kwargs: Any) -> Any:
        if self.refuse:
            raise AssertionError(f"model {spec.id} was loaded, but the request should have failed")
        self.loads += 1
        return self.inner.load(spec, **kwargs)


@pytest.fixture
def make_engine(
    tiny_data_dir: Path, tiny_engine_settings: EngineSettings
) -> Callable[..., tuple[Engine, dict[str, CountingLoader]]]:
    """Build a fresh engine over the tiny data dir with setting overrides and counting loaders."""

    def make(
        *, refuse_loads: bool = False, **overrides: Any
    ) -> tuple[Engine, dict[str, CountingLoader]]:
        settings = tiny_engine_settings.model_copy(update=overrides)
        base = build_engine(settings, data_dir=tiny_data_dir)
        loaders = {k: CountingLoader(v, refuse=refuse_loads) for k, v in LOADERS.items()}
        engine = Engine(
            registry=base.registry,
            settings=settings,
            lora_dirs=[tiny_data_dir / "models" / "loras"],
            loaders=loaders,  # type: ignore[arg-type]
        )
        return engine, loaders

    return make
