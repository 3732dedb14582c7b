"""Feature extraction: a vision-language model describes a selfie, answering in a JSON schema.

The model is an ``llm.models`` entry with the ``vision`` capability, named by
``vision.features_model``; the schema and the question are data
(:mod:`imajin.vision.feature_schema`). The face crop and the whole photo are sent as
images of one user message; the answer is validated against the schema and retried
with the problem fed back, then :class:`~imajin.vision.errors.FeaturesInvalid`.

Features are personal data: nothing here logs them, the images, or the raw answers.
"""

from __future__ import annotations

import io
from typing import Any, Literal

from imajin.config import Settings
from imajin.llm.client import LLMClient
from imajin.llm.errors import LLMError, LLMOutputError, LLMTimeout
from imajin.llm.messages import Message, MessageImage
from imajin.llm.model_registry import LLMRegistry
from imajin.vision.base import RGBImage
from imajin.vision.errors import (
    FEATURES_STAGE,
    FeaturesInvalid,
    FeaturesTimeout,
    FeaturesUnavailable,
    VisionConfigError,
)
from imajin.vision.feature_schema import FeatureSchema, load_feature_schema

Features = dict[str, Any]
"""One answer, validated against the feature schema: field name -> value."""

FEATURES_MODEL_KEY = "vision.features_model"
NO_VISION_MODEL_MESSAGE = (
    f"No vision model is configured, so selfie features cannot be extracted; set "
    f"`{FEATURES_MODEL_KEY}` to an llm.models entry with the vision capability "
    "(backend transformers-vlm, or openai with options.vision: true)."
)
ImageFormat = Literal["jpeg", "png"]
_JPEG_QUALITY = 90


class FeatureExtractor:
    """Asks one vision model about a face crop and its photo; see the module docstring.

    Args:
        client: A client whose default model has the vision capability.
        model_id: That model's id, for messages.
        schema: The feature schema and question.
        max_side: Longest side in pixels of each image sent; larger ones are scaled down.
        image_format: How the images are encoded.
        retries: Extra answers asked for when one is not valid for the schema.
        timeout_s: Seconds per answer when a call gives none; None for the model's timeout.
    """

    def __init__(
        self,
        *,
        client: LLMClient,
        model_id: str,
        schema: FeatureSchema,
        max_side: int = 768,
        image_format: ImageFormat = "jpeg",
        retries: int = 2,
        timeout_s: float | None = None,
    ) -> None:
        if max_side < 1:
            raise ValueError(f"`max_side` must be at least 1 pixel, not {max_side}.")
        self.client = client
        self.model_id = model_id
        self.schema = schema
        self.answer_type = schema.answer_model()
        self.max_side = max_side
        self.image_format: ImageFormat = image_format
        self.retries = retries
        self.timeout_s = timeout_s

    def messages(self, *, face: RGBImage, image: RGBImage) -> list[Message]:
        """The conversation sent: the schema's instructions, then the question with both images."""
        images = [encode_image(face, max_side=self.max_side, fmt=self.image_format)]
        images.append(encode_image(image, max_side=self.max_side, fmt=self.image_format))
        return [
            Message.system(self.schema.system),
            Message.user(self.schema.question, images=images),
        ]

    def extract(
        self, *, face: RGBImage, image: RGBImage, timeout_s: float | None = None
    ) -> Features:
        """The features of the person in ``face`` (a crop) and ``image`` (the whole photo).

        Args:
            face: H×W×3 RGB ``uint8``; pass the whole image when no face was found.
            image: The whole photo, H×W×3 RGB ``uint8``.
            timeout_s: Seconds per answer; None for the extractor's (or the model's) timeout.

        Raises:
            FeaturesUnavailable: The model could not be asked (down, unreachable, failing).
            FeaturesTimeout: The model did not answer in time (a FeaturesUnavailable).
            FeaturesInvalid: After the retries no answer was valid for the schema.
        """
        messages = self.messages(face=face, image=image)
        timeout = timeout_s if timeout_s is not None else self.timeout_s
        try:
            answer = self.client.complete_structured(
                messages, self.answer_type, timeout=timeout, output_retries=self.retries
            )
        except LLMOutputError as error:
            # The raw answer stays out of the message: it may describe the person.
            raise FeaturesInvalid(
                f"The {FEATURES_STAGE} stage failed: vision model {self.model_id!r} gave no "
                f"answer valid for the feature schema in {error.attempts} attempt(s); last "
                f"problem: {error.problem}. Use a stronger vision model or raise "
                "vision.features_retries."
            ) from None
        except LLMTimeout as error:
            raise FeaturesTimeout(
                f"The {FEATURES_STAGE} stage timed out: {error.message}"
            ) from None
        except LLMError as error:
            raise FeaturesUnavailable(
                f"The {FEATURES_STAGE} stage failed: vision model {self.model_id!r} could not "
                f"be asked: {error.message}"
            ) from None
        return answer.model_dump(mode="json")

    def is_minor(self, features: Features) -> bool:
        """Whether ``features`` say the person looks under 18 (the schema's ``minor`` rule)."""
        return self.schema.is_minor(features)


def encode_image(pixels: RGBImage, *, max_side: int, fmt: ImageFormat) -> MessageImage:
    """``pixels`` (H×W×3 RGB ``uint8``) scaled to fit ``max_side``, encoded as ``fmt``.

    Raises:
        ValueError: ``pixels`` is not an H×W×3 ``uint8`` array.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype.name != "uint8":
        raise ValueError(
            f"an image must be an H×W×3 uint8 RGB array, not {pixels.dtype.name} of shape "
            f"{pixels.shape}"
        )
    from PIL import Image  # noqa: PLC0415 - importing imajin.vision stays light

    picture = Image.fromarray(pixels)
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if fmt == "jpeg":
        picture.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    else:
        picture.save(buffer, format="PNG")
    return MessageImage.from_bytes(buffer.getvalue())


def build_feature_extractor(settings: Settings, llm: LLMRegistry) -> FeatureExtractor | None:
    """The extractor ``settings.vision`` configures; None when no features model is set.

    Called at start-up: the feature schema is loaded and checked, and so is the model.

    Raises:
        VisionConfigError: ``vision.features_model`` names no ``llm.models`` entry, or one
            without the vision capability; or the feature schema file is invalid.
    """
    vision = settings.vision
    schema = load_feature_schema(vision.features_file)
    model_id = vision.features_model
    if model_id is None:
        return None
    if model_id not in llm.model_ids:
        raise VisionConfigError(
            f"{FEATURES_MODEL_KEY} {model_id!r} is not defined under llm.models (defined: "
            f"{', '.join(llm.model_ids) or 'none'}); add it there or name one of those.",
            field=FEATURES_MODEL_KEY,
        )
    if not llm.sees_images(model_id):
        backend = settings.llm.models[model_id].backend
        raise VisionConfigError(
            f"{FEATURES_MODEL_KEY} {model_id!r} (backend {backend!r}) has no vision capability, "
            "so it cannot see the selfie; name a vision model (backend transformers-vlm, or "
            "openai with options.vision: true).",
            field=FEATURES_MODEL_KEY,
        )
    return FeatureExtractor(
        client=llm.client_for(model_id),
        model_id=model_id,
        schema=schema,
        max_side=vision.features_max_side,
        image_format=vision.features_image_format,
        retries=vision.features_retries,
        timeout_s=vision.features_timeout_s,
    )
