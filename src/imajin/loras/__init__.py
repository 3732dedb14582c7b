"""The LoRA folders as a catalog: which files are there and what each was made for."""

from imajin.loras.catalog import LoraCatalog

__all__ = ["LoraCatalog"]
