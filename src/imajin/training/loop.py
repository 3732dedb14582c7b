"""One optimiser step of LoRA training, and the state a checkpoint must hold to repeat it.

This is the loop of diffusers' ``train_text_to_image_lora.py``: noise the
cached latents at random timesteps, let the UNet (with PEFT LoRA layers on its
attention projections) predict the noise or the velocity, take the MSE loss,
and step AdamW on the LoRA weights only.

Everything random is reproducible from the seed and the step number: data
order is a pure function of both (:class:`ExampleOrder`), and noise,
timesteps and LoRA dropout come from generators whose states the checkpoint
stores. A run resumed from step *k* therefore computes what an uninterrupted
run computes after step *k*.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the universal alias
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

from imajin.config.training import TrainingSettings
from imajin.training.errors import CheckpointMismatch
from imajin.training.prepare import CachedData

# Every attention projection of the UNet, as diffusers' LoRA scripts target.
TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")


class ExampleOrder:
    """Which examples make each micro-batch: a new seeded shuffle every epoch.

    Micro-batch ``m`` holds sample positions ``m * batch_size`` onwards; position
    ``p`` is entry ``p % count`` of epoch ``p // count``'s permutation. No state
    is kept beyond a cache, so resuming needs nothing saved.
    """

    def __init__(self, *, seed: int, count: int, batch_size: int) -> None:
        self._seed = seed
        self._count = count
        self._batch_size = batch_size
        self._epochs: dict[int, np.ndarray] = {}

    def batch(self, micro_batch: int) -> torch.Tensor:
        """Example indices of micro-batch ``micro_batch`` (0-based)."""
        start = micro_batch * self._batch_size
        return torch.tensor(
            [self._at(position) for position in range(start, start + self._batch_size)]
        )

    def _at(self, position: int) -> int:
        epoch, offset = divmod(position, self._count)
        if epoch not in self._epochs:
            if len(self._epochs) > 2:  # a batch spans at most two epochs
                self._epochs.pop(min(self._epochs))
            self._epochs[epoch] = np.random.default_rng([self._seed, epoch]).permutation(
                self._count
            )
        return int(self._epochs[epoch][offset])


class LoraTrainer:
    """A UNet with a trainable LoRA, its optimiser, and the loop's random streams.

    Construct it inside ``torch.random.fork_rng``: it seeds the global generator
    (LoRA initialisation and dropout draw from it) with ``settings.seed``.

    Args:
        unet: The base model's UNet (frozen here; LoRA layers are added to it).
        data: The cached training set, on ``device``.
        noise_scheduler: A DDPM-style scheduler with ``add_noise``/``get_velocity``.
        prediction: ``epsilon`` or ``v_prediction``: what the UNet learns to predict.
        settings: Rank, alpha, dropout, optimiser and batching settings.
        device: Where training runs.
        precision: Half dtype for the frozen base under autocast, or None for fp32.
    """

    def __init__(
        self,
        unet: Any,
        *,
        data: CachedData,
        noise_scheduler: Any,
        prediction: str,
        settings: TrainingSettings,
        device: torch.device,
        precision: torch.dtype | None,
    ) -> None:
        self.unet = unet
        self.data = data
        self.settings = settings
        self.device = device
        self.precision = precision
        self._scheduler = noise_scheduler
        self._prediction = prediction
        self._timesteps = int(noise_scheduler.config.num_train_timesteps)
        self.config = LoraConfig(
            r=settings.rank,
            lora_alpha=settings.alpha,
            lora_dropout=settings.dropout,
            init_lora_weights="gaussian",
            target_modules=list(TARGET_MODULES),
        )
        unet.requires_grad_(False)
        # The frozen base in half precision; not `to(dtype)`, for which diffusers logs
        # a spurious "modules to keep in float32" warning.
        if precision == torch.float16:
            unet.half()
        elif precision == torch.bfloat16:
            unet.bfloat16()
        torch.manual_seed(settings.seed)  # LoRA init draws from the (forked) global generator
        unet.add_adapter(self.config)
        unet.to(device)
        self.parameters = [p for p in unet.parameters() if p.requires_grad]
        # LoRA weights stay fp32 under a half-precision base: AdamW's small updates
        # would round away in fp16/bf16.
        for parameter in self.parameters:
            parameter.data = parameter.data.float()
        if settings.gradient_checkpointing:
            unet.enable_gradient_checkpointing()
        unet.train()
        self.optimizer = torch.optim.AdamW(
            self.parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        # fp16 gradients underflow without loss scaling; bf16 has fp32's range.
        self.scaler = torch.amp.GradScaler("cuda") if precision == torch.float16 else None
        # A CPU generator draws the same noise whatever the device.
        self.noise = torch.Generator().manual_seed(settings.seed)
        self.order = ExampleOrder(
            seed=settings.seed, count=len(data), batch_size=settings.batch_size
        )

    def step(self, number: int) -> float:
        """Run optimiser step ``number`` (1-based); returns its mean loss."""
        accumulation = self.settings.gradient_accumulation
        warmup = self.settings.lr_warmup_steps
        scale = min(1.0, number / warmup) if warmup else 1.0
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings.learning_rate * scale
        total = 0.0
        for micro in range(accumulation):
            loss = self._loss(self.order.batch((number - 1) * accumulation + micro))
            scaled = loss / accumulation
            torch.autograd.backward(
                self.scaler.scale(scaled) if self.scaler is not None else scaled
            )
            total += float(loss.detach())
        self._apply_gradients()
        return total / accumulation

    def _loss(self, indices: torch.Tensor) -> torch.Tensor:
        latents = self.data.latents[indices]
        noise = torch.randn(latents.shape, generator=self.noise).to(self.device)
        timesteps = torch.randint(0, self._timesteps, (len(indices),), generator=self.noise).to(
            self.device
        )
        noisy = self._scheduler.add_noise(latents, noise, timesteps)
        if self._prediction == "v_prediction":
            target = self._scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        with torch.autocast(
            self.device.type,
            dtype=self.precision or torch.float32,
            enabled=self.precision is not None,
        ):
            predicted = self.unet(
                noisy, timesteps, **self.data.conditioning.unet_kwargs(indices), return_dict=False
            )[0]
        return F.mse_loss(predicted.float(), target.float())

    def _apply_gradients(self) -> None:
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)  # clip true gradients, not scaled ones
        if self.settings.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.parameters, self.settings.max_grad_norm)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    # -- checkpoints -----------------------------------------------------------

    def lora_state(self) -> dict[str, torch.Tensor]:
        """The LoRA weights as PEFT-format tensors (``...to_q.lora_A.weight``) on the CPU."""
        layers = get_peft_model_state_dict(self.unet)
        return {key: value.detach().float().cpu().contiguous() for key, value in layers.items()}

    def loop_state(self) -> dict[str, Any]:
        """Optimiser, loss scaler and random-generator states (tensors and plain values)."""
        cuda = self.device.type == "cuda"
        return {
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "noise": self.noise.get_state(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(self.device) if cuda else None,
        }

    def restore(self, lora: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Put back what :meth:`lora_state` and :meth:`loop_state` returned."""
        result = set_peft_model_state_dict(self.unet, lora)
        unexpected = getattr(result, "unexpected_keys", None)
        if unexpected:
            raise CheckpointMismatch(
                f"the checkpoint holds LoRA layers this UNet lacks (e.g. {unexpected[0]}); "
                "pass --no-resume to start over",
                field="resume",
            )
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.noise.set_state(state["noise"])
        torch.set_rng_state(state["rng_cpu"])
        if self.device.type == "cuda" and state.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(state["rng_cuda"], self.device)
