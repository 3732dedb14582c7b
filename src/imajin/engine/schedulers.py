"""Samplers by name: one table from imajin's names to diffusers schedulers.

A job never mutates the pipeline's own scheduler: it builds a fresh one from
the model's saved scheduler config plus the sampler's settings and the model's
prediction type, so concurrent defaults and v-prediction are always right.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

from imajin.engine.families import Family


@dataclass(frozen=True)
class Sampler:
    """How to build one named sampler.

    Attributes:
        label: The name A1111-style tools show (``DPM++ 2M Karras``).
        scheduler_class: diffusers class for noise-prediction models.
        options: Settings passed to ``from_config`` on top of the model's config.
        flow_class: diffusers class for flow-matching models, or None when the
            sampler does not apply to them.
    """

    label: str
    scheduler_class: str
    options: dict[str, Any] = field(default_factory=dict)
    flow_class: str | None = None


SAMPLERS: dict[str, Sampler] = {
    "dpmpp_2m": Sampler(
        "DPM++ 2M", "DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}
    ),
    "dpmpp_2m_karras": Sampler(
        "DPM++ 2M Karras",
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
    "dpmpp_2m_sde": Sampler(
        "DPM++ 2M SDE", "DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}
    ),
    "dpmpp_2m_sde_karras": Sampler(
        "DPM++ 2M SDE Karras",
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "euler": Sampler(
        "Euler", "EulerDiscreteScheduler", flow_class="FlowMatchEulerDiscreteScheduler"
    ),
    "euler_a": Sampler("Euler a", "EulerAncestralDiscreteScheduler"),
    # Flow Heun is left out: Z-Image passes custom sigmas, which it cannot take.
    "heun": Sampler("Heun", "HeunDiscreteScheduler"),
    "ddim": Sampler("DDIM", "DDIMScheduler"),
    "unipc": Sampler("UniPC", "UniPCMultistepScheduler"),
    "lcm": Sampler("LCM", "LCMScheduler"),
}
SCHEDULER_NAMES: tuple[str, ...] = tuple(SAMPLERS)
_BY_LABEL = {sampler.label: name for name, sampler in SAMPLERS.items()}

# Zero-terminal-SNR v-prediction models (NoobAI-XL v-pred, SD 2.x-v) need these
# on every sampler, or images come out washed-out grey.
_V_PREDICTION = {
    "prediction_type": "v_prediction",
    "rescale_betas_zero_snr": True,
    "timestep_spacing": "trailing",
}


def samplers_for(family: Family) -> list[str]:
    """Sampler names that work with ``family``."""
    if family.flow_matching:
        return [name for name, sampler in SAMPLERS.items() if sampler.flow_class is not None]
    return list(SAMPLERS)


def sampler_label(name: str) -> str:
    """A1111-style label of a sampler name (``euler_a`` → ``Euler a``)."""
    return SAMPLERS[name].label if name in SAMPLERS else name


def sampler_from_label(label: str) -> str | None:
    """Sampler name for an A1111-style label, or None if imajin has no such sampler."""
    return _BY_LABEL.get(label.strip())


def build_scheduler(name: str, *, base_config: Any, family: Family, prediction: str) -> Any:
    """A fresh scheduler for sampler ``name`` on a model with ``base_config``.

    Args:
        name: A key of :data:`SAMPLERS`; callers validate it first.
        base_config: The model's own scheduler config (``pipe.scheduler.config``).
        family: The model's family (flow-matching families use the flow class).
        prediction: ``epsilon`` or ``v_prediction``.
    """
    diffusers = importlib.import_module("diffusers")  # heavy; only needed once a model runs
    sampler = SAMPLERS[name]
    if family.flow_matching:
        if sampler.flow_class is None:
            raise ValueError(f"sampler {name!r} does not apply to flow-matching models")
        cls = getattr(diffusers, sampler.flow_class)
        return cls.from_config(base_config)
    cls = getattr(diffusers, sampler.scheduler_class)
    options = dict(sampler.options)
    options["prediction_type"] = prediction
    if prediction == "v_prediction":
        options.update(_V_PREDICTION)
    accepted = inspect.signature(cls.__init__).parameters
    return cls.from_config(base_config, **{k: v for k, v in options.items() if k in accepted})
