"""Batch-invariant numerics on CPU: an image denoised in a batch equals the image made alone.

Measured on the CPU build (MKL GEMM, oneDNN convolutions), the only kernels whose result
for one image depends on how many images share the call are:

- GEMM rows past the last multiple of 4: MKL computes them with a tail kernel that
  rounds differently, so a ``Linear`` over few rows (the time and text embeddings: one
  row per image) gives another result for 2 rows than for 8. Padding the rows to a
  multiple of :data:`ROW_MULTIPLE` sends every row through the main kernel.
- A convolution over one image: oneDNN picks another algorithm than for several. The
  VAE decodes one image at a time (``enable_slicing``), alone or batched, so every
  decode is the one-image decode.
- An elementwise activation (QuickGELU, SiLU) over a tensor whose length is not a
  multiple of the vector loop's step: its last values take scalar code, which rounds
  differently. Where that end falls inside the last image of a batch (the tiny CLIP
  text encoders' 37-wide MLP), that image differs from the one made alone. Such an
  activation runs once per sample (along the first, batch, dimension), so each sample
  is the tensor it is alone; activations whose sample already fills whole steps (real
  models' widths) run unchanged.

The padding copies only inputs whose row count is not already a multiple, and on a CPU
a batched VAE decode is no faster than a sliced one; on the tiny test models the three
still cost about 10-15 % per image, so the engine applies them only to models whose
``max_batch`` is above 1.
"""

from __future__ import annotations

import types
from typing import Any

import torch
from torch import nn

ROW_MULTIPLE = 16
"""Rows a GEMM input is padded to a multiple of (MKL's main kernel takes rows by 4)."""

VECTOR_STEP_BYTES = 128
"""Bytes per sample that fill whole steps of the elementwise vector loop (two AVX-512
registers: 32 floats or 64 half floats; four AVX2 steps), so no value takes the tail."""

_ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.SiLU,
    nn.GELU,
    nn.ReLU,
    nn.Mish,
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardswish,
    nn.LeakyReLU,
)
"""Elementwise activation modules of torch; transformers' own are found by module."""

_PATCHED = "_imajin_batch_invariant"


def make_batch_invariant(pipe: Any) -> None:
    """Make ``pipe``'s results per image independent of the batch size (CPU only).

    Idempotent and cheap: run it before each call, after LoRA adapters are applied, so
    the adapters' own ``Linear`` layers are covered too.
    """
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
    for component in getattr(pipe, "components", {}).values():
        if isinstance(component, nn.Module):
            for module in component.modules():
                if getattr(module, _PATCHED, False):
                    continue
                if isinstance(module, nn.Linear):
                    module.forward = types.MethodType(_padded_forward, module)  # type: ignore[method-assign]
                elif _is_activation(module):
                    module.forward = types.MethodType(_per_sample_forward, module)
                else:
                    continue
                setattr(module, _PATCHED, True)


def _is_activation(module: nn.Module) -> bool:
    return isinstance(module, _ACTIVATIONS) or (
        type(module).__module__ == "transformers.activations"
    )


def _padded_forward(self: nn.Linear, inputs: torch.Tensor) -> torch.Tensor:
    features = inputs.shape[-1]
    rows = inputs.numel() // features if features else 0
    extra = -rows % ROW_MULTIPLE
    if extra == 0 or inputs.device.type != "cpu":
        return nn.functional.linear(inputs, self.weight, self.bias)
    flat = inputs.reshape(rows, features)
    flat = torch.cat([flat, flat.new_zeros(extra, features)])
    out = nn.functional.linear(flat, self.weight, self.bias)[:rows]
    return out.reshape(*inputs.shape[:-1], self.weight.shape[0])


def _per_sample_forward(self: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    forward = type(self).forward
    samples = inputs.shape[0] if inputs.dim() > 1 else 1
    if (
        samples < 2
        or inputs.numel() // samples * inputs.element_size() % VECTOR_STEP_BYTES == 0
        or inputs.device.type != "cpu"
    ):
        return forward(self, inputs)  # type: ignore[no-any-return]
    parts = (inputs[index : index + 1] for index in range(samples))
    return torch.cat([forward(self, part) for part in parts])
