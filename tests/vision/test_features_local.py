"""Feature extraction by a local vision-language model: the tiny Qwen2-VL, as users configure it.

Settings name a ``transformers-vlm`` model under ``llm.models`` and ``vision.features_model``;
the extractor is built by ``build_feature_extractor`` exactly as at start-up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from imajin.api.errors import status_for
from imajin.config import Settings
from imajin.llm import LLMRegistry
from imajin.vision import (
    FeatureExtractor,
    FeaturesInvalid,
    build_feature_extractor,
    load_feature_schema,
)
from imajin.vision.feature_schema import ChoiceField, ListField

PHOTO = np.ascontiguousarray(data.astronaut()[..., :3])  # public-domain NASA portrait
FACE = np.ascontiguousarray(PHOTO[60:170, 170:280])


def extractor_for(model_path: Path, **model: object) -> FeatureExtractor:
    settings = Settings.model_validate(
        {
            "llm": {
                "default_model": "vlm",
                # The schema is enforced by the decoder; describing it too only lengthens
                # the tiny model's byte-per-token prompt.
                "schema_in_prompt": False,
                "models": {
                    "vlm": {
                        "backend": "transformers-vlm",
                        "options": {"model_path": str(model_path), "max_pixels": 28 * 28 * 4},
                        **model,
                    }
                },
            },
            "vision": {"features_model": "vlm", "features_max_side": 128, "features_retries": 1},
        }
    )
    extractor = build_feature_extractor(settings, LLMRegistry(settings.llm))
    assert extractor is not None
    return extractor


@pytest.fixture(scope="module")
def extractor(tiny_qwen2_vl_path: Path) -> FeatureExtractor:
    return extractor_for(tiny_qwen2_vl_path, max_tokens=400)


def test_the_local_model_answers_within_the_schema(extractor: FeatureExtractor) -> None:
    features = extractor.extract(face=FACE, image=PHOTO)

    schema = load_feature_schema()
    assert set(features) == set(schema.fields)
    for name, spec in schema.fields.items():
        if isinstance(spec, ChoiceField):
            assert features[name] in spec.values, name
        else:
            assert isinstance(spec, ListField)
            assert len(features[name]) <= spec.max_items
            assert all(1 <= len(item) <= spec.max_length for item in features[name])
    # Greedy and seeded: the same photo gets the same features.
    assert extractor.extract(face=FACE, image=PHOTO) == features


def test_answers_cut_off_are_retried_then_a_502_naming_the_stage(
    tiny_qwen2_vl_path: Path,
) -> None:
    # Eight tokens cannot hold the JSON object, so every answer fails validation.
    extractor = extractor_for(tiny_qwen2_vl_path, max_tokens=8)

    with pytest.raises(FeaturesInvalid) as caught:
        extractor.extract(face=FACE, image=PHOTO)

    assert status_for(caught.value) == 502
    assert "features stage" in caught.value.message
    assert "in 2 attempt(s)" in caught.value.message  # one retry (features_retries: 1)
    assert "cut off at max_tokens=8" in caught.value.message
