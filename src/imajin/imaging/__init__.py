"""Size matrix, safe-zone crop planning, resize/crop/encode with pyvips (SPEC §3.1).

- :mod:`~imajin.imaging.sizes`: the nine families, their masters and derivatives.
- :mod:`~imajin.imaging.planning`: what size to ask a model for, and how to reach the master.
- :mod:`~imajin.imaging.crops`: the safe zone and the crop of each derivative.
- :mod:`~imajin.imaging.render`: crop, resize and WebP-encode with libvips.
- :mod:`~imajin.imaging.files`: write a family's files to storage, all or none.
"""

from imajin.config.imaging import DEFAULT_SAFE_ZONE, ImagingSettings
from imajin.imaging.crops import (
    CropBox,
    DerivativeCrop,
    plan_crop,
    plan_family_crops,
    safe_zone_box,
)
from imajin.imaging.errors import ImagingError
from imajin.imaging.files import (
    StoredImage,
    delete_family,
    family_paths,
    image_path,
    write_family,
)
from imajin.imaging.planning import GenerationPlan, plan_generation, safe_zone_prompt_hint
from imajin.imaging.render import (
    DerivativePool,
    RenderedImage,
    encode_master,
    render_derivatives,
    render_family,
)
from imajin.imaging.sizes import (
    DERIVATIVE_NAMES,
    FAMILIES,
    FAMILY_NAMES,
    DerivativeSpec,
    FamilySpec,
    Size,
    all_derivatives,
    derivative,
    family,
    family_derivatives,
)

__all__ = [
    "DEFAULT_SAFE_ZONE",
    "DERIVATIVE_NAMES",
    "FAMILIES",
    "FAMILY_NAMES",
    "CropBox",
    "DerivativeCrop",
    "DerivativePool",
    "DerivativeSpec",
    "FamilySpec",
    "GenerationPlan",
    "ImagingError",
    "ImagingSettings",
    "RenderedImage",
    "Size",
    "StoredImage",
    "all_derivatives",
    "delete_family",
    "derivative",
    "encode_master",
    "family",
    "family_derivatives",
    "family_paths",
    "image_path",
    "plan_crop",
    "plan_family_crops",
    "plan_generation",
    "render_derivatives",
    "render_family",
    "safe_zone_box",
    "safe_zone_prompt_hint",
    "write_family",
]
