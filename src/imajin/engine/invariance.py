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

The padding copies only inputs whose row count is not already a multiple, and on a CPU
a batched VAE decode is no faster than a sliced one; on the tiny test models the two
still cost about 10-15 % per image, so the engine applies them only to models whose
``max_batch`` is above 1.

Not covered: an elementwise activation (QuickGELU, SiLU) computes the last values of a
tensor that do not fill a vector register with scalar code, which rounds differently.
Where a batch's tensor ends inside its last image (the tiny CLIP text encoders' 37-wide
MLP), that image may be one level of 255 off in a few pixels; real models' widths are
multiples of the vector length.
"""

from __future__ import annotations

import types
from typing import Any

import torch
from torch import nn

ROW_MULTIPLE = 16
"""Rows a GEMM input is padded to a multiple of (MKL's main kernel takes rows by 4)."""

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
                if isinstance(module, nn.Linear) and not getattr(module, _PATCHED, False):
                    module.forward = types.MethodType(_padded_forward, module)  # type: ignore[method-assign]
                    setattr(module, _PATCHED, True)


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
