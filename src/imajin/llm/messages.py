"""What goes to a backend and what comes back: chat messages, requests, completions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

Role = Literal["system", "user", "assistant"]
ImageMediaType = Literal["image/png", "image/jpeg"]

# Leading bytes of each accepted image format: the bytes decide, never a declared type.
_SIGNATURES: dict[ImageMediaType, bytes] = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}


def _sniff(data: bytes) -> ImageMediaType | None:
    for media_type, signature in _SIGNATURES.items():
        if data.startswith(signature):
            return media_type
    return None


class MessageImage(BaseModel):
    """An image a user message shows the model: PNG or JPEG bytes (base64 in JSON)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, ser_json_bytes="base64", val_json_bytes="base64"
    )

    media_type: ImageMediaType = Field(description="image/png or image/jpeg.")
    data: bytes = Field(min_length=1, description="The encoded image file.")

    @model_validator(mode="after")
    def _bytes_match_type(self) -> Self:
        sniffed = _sniff(self.data)
        if sniffed != self.media_type:
            found = sniffed or "neither PNG nor JPEG"
            raise ValueError(f"image bytes are {found}, not the declared {self.media_type}")
        return self

    @classmethod
    def from_bytes(cls, data: bytes) -> MessageImage:
        """An image from PNG or JPEG file bytes; the type is read from the bytes.

        Raises:
            ValueError: The bytes are neither PNG nor JPEG.
        """
        media_type = _sniff(data)
        if media_type is None:
            raise ValueError("an image in a message must be PNG or JPEG bytes")
        return cls(media_type=media_type, data=data)

    @classmethod
    def from_data_url(cls, url: str) -> MessageImage:
        """An image from a ``data:image/png;base64,...`` (or ``image/jpeg``) URL.

        Raises:
            ValueError: Not a base64 data URL of a PNG or JPEG.
        """
        header, comma, payload = url.partition(",")
        media_type = header.removeprefix("data:").removesuffix(";base64")
        if not comma or not header.startswith("data:") or not header.endswith(";base64"):
            raise ValueError("an image URL must be a base64 data URL: data:image/png;base64,...")
        try:
            data = base64.b64decode(payload, validate=True)
        except binascii.Error as error:
            raise ValueError(f"the data URL's base64 payload is malformed: {error}") from None
        if media_type not in _SIGNATURES:
            raise ValueError(f"data URL type {media_type!r} is not image/png or image/jpeg")
        return cls.model_validate({"media_type": media_type, "data": data})

    @property
    def data_url(self) -> str:
        """``data:<media_type>;base64,<data>``, as OpenAI-style vision APIs take images."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


ImageInput = MessageImage | bytes | str
"""An image as :meth:`Message.user` takes it: a :class:`MessageImage`, file bytes or a data URL."""


def as_message_image(image: ImageInput) -> MessageImage:
    """``image`` as a :class:`MessageImage` (bytes are sniffed, strings read as data URLs)."""
    if isinstance(image, MessageImage):
        return image
    if isinstance(image, bytes):
        return MessageImage.from_bytes(image)
    return MessageImage.from_data_url(image)


class Message(BaseModel):
    """One chat message; a user message may also show the model images.

    A message without images serialises exactly as a text-only message always has
    (``{"role", "content"}``), so prompts, cache keys and wire formats stay the same.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role = Field(description="Who speaks: system (instructions), user or assistant.")
    content: str = Field(description="The message text.")
    images: tuple[MessageImage, ...] = Field(
        (), description="Images shown with a user message, in order; needs a vision model."
    )

    @model_validator(mode="after")
    def _images_only_from_the_user(self) -> Self:
        if self.images and self.role != "user":
            raise ValueError(f"only user messages may carry images, not {self.role} messages")
        return self

    @model_serializer(mode="wrap")
    def _omit_no_images(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not self.images:
            data.pop("images", None)
        return data

    @classmethod
    def system(cls, content: str) -> Message:
        """A system message (instructions for the model)."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str, *, images: Sequence[ImageInput] = ()) -> Message:
        """A user message (the question), showing ``images`` (PNG/JPEG bytes or data URLs).

        Raises:
            ValueError: An image is neither PNG nor JPEG, or a data URL is malformed.
        """
        return cls(role="user", content=content, images=tuple(map(as_message_image, images)))

    @classmethod
    def assistant(cls, content: str) -> Message:
        """An assistant message (an earlier answer of the model)."""
        return cls(role="assistant", content=content)


PromptGuard = Callable[[list[Message]], None]
"""Called with every prompt just before it is sent; raises (or logs) to veto it."""


class CompletionRequest(BaseModel):
    """Everything a backend needs for one completion; the client fills every field.

    Backends read the fields they support and ignore ``json_schema`` when they do not
    declare ``supports_json_schema`` (the client then only validates the answer).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[Message, ...] = Field(description="The conversation, oldest first.")
    json_schema: dict[str, Any] | None = Field(
        None, description="JSON schema the answer must match, or None for free text."
    )
    schema_name: str = Field("answer", description="A name for the schema (some servers need one).")
    max_tokens: int = Field(ge=1, description="Most tokens the answer may have.")
    temperature: float = Field(ge=0.0, description="0 means greedy decoding.")
    seed: int | None = Field(description="Sampling seed, for reproducible answers.")
    timeout_s: float = Field(gt=0, description="Seconds the backend may take for this answer.")


FinishReason = Literal["stop", "length"]


class Completion(BaseModel):
    """A backend's answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="The answer text (JSON when a schema was given).")
    finish_reason: FinishReason = Field(
        "stop", description="stop: the model ended; length: cut off at max_tokens."
    )
