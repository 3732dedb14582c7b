"""OpenAI-compatible chat completions over HTTP: vLLM, Ollama, llama.cpp server, hosted APIs.

Images of user messages go as ``image_url`` content parts holding base64 ``data:``
URLs, for models configured with ``vision: true``. Structured output is requested
with ``response_format`` of type ``json_schema`` (or ``json_object`` for servers
that only know that). HTTP 4xx answers are the request's fault and are not
retried; 5xx, 408, 429, timeouts and connection failures are upstream failures
the client retries.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field, SecretStr, field_validator

from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.errors import (
    LLMConfigError,
    LLMError,
    LLMRequestRejected,
    LLMTimeout,
    LLMUnavailable,
    LLMUpstreamError,
)
from imajin.llm.messages import Completion, CompletionRequest, Message
from imajin.llm.structured import closed_schema

# Statuses in the 4xx range that mean "try again later", not "fix the request".
_RETRYABLE_4XX = frozenset({408, 409, 429})
# Enough of an error body to diagnose it; hosted APIs can send whole HTML pages.
_MAX_BODY_CHARS = 4096
_SHOWN_BODY_CHARS = 300


class OpenAICompatOptions(BackendOptions):
    """Options of the OpenAI-compatible HTTP backend."""

    base_url: str = Field(
        description="API base URL including /v1, e.g. http://127.0.0.1:11434/v1 (Ollama) "
        "or http://127.0.0.1:8000/v1 (vLLM)."
    )
    model: str = Field(min_length=1, description="The model name the server knows.")
    api_key: SecretStr | None = Field(
        None, description="Sent as 'Authorization: Bearer <key>'; omit for servers without auth."
    )
    api_key_env: str | None = Field(
        None,
        description="Name of an environment variable holding the key, read when the backend "
        "is built; used when api_key is empty, so the key stays out of config files.",
    )
    structured_output: Literal["json_schema", "json_object", "none"] = Field(
        "json_schema",
        description="How to ask for JSON: json_schema (vLLM, Ollama, llama.cpp server, OpenAI), "
        "json_object for servers that only force JSON, none to rely on validation alone.",
    )
    strict: bool = Field(
        True,
        description="Send strict: true, with every object closed to unlisted keys (OpenAI's "
        "strict mode needs that); false sends the schema as the output type gives it.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers sent with every request."
    )
    vision: bool = Field(
        False,
        description="The served model sees images (a vision-language model such as "
        "Qwen2-VL or GPT-4o): images are sent as base64 data URLs. Leave false for "
        "text-only models.",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url {url!r} must start with http:// or https://")
        return url.rstrip("/")


class OpenAICompatBackend(LLMBackend):
    """Chat completions against an OpenAI-compatible server, sync and natively async."""

    options_type: ClassVar[type[BackendOptions]] = OpenAICompatOptions
    supports_json_schema: ClassVar[bool] = True
    supports_vision: ClassVar[bool] = True

    options: OpenAICompatOptions

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.url = f"{self.options.base_url}/chat/completions"
        self._headers = dict(self.options.headers)
        key = _api_key(self.options)
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(headers=self._headers)

    def complete(self, request: CompletionRequest) -> Completion:
        """POST the request to ``/chat/completions`` and return the first choice."""
        try:
            response = self._client.post(
                self.url, json=self.body(request), timeout=request.timeout_s
            )
        except httpx.HTTPError as error:
            raise self._transport_error(error, request) from error
        return self._completion(response)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        """The same as :meth:`complete` on the event loop, without a thread."""
        # A client per call: an AsyncClient's pool is bound to the loop that created it.
        async with httpx.AsyncClient(headers=self._headers) as client:
            try:
                response = await client.post(
                    self.url, json=self.body(request), timeout=request.timeout_s
                )
            except httpx.HTTPError as error:
                raise self._transport_error(error, request) from error
        return self._completion(response)

    def body(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body sent for ``request``."""
        body: dict[str, Any] = {
            "model": self.options.model,
            "messages": [_wire_message(message) for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        schema = request.json_schema
        mode = self.options.structured_output
        if schema is not None and mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": closed_schema(schema) if self.options.strict else schema,
                    "strict": self.options.strict,
                },
            }
        elif schema is not None and mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    @classmethod
    def sees_images(cls, options: BackendOptions) -> bool:
        """``options.vision``: whether the remote model sees images is configuration."""
        return isinstance(options, OpenAICompatOptions) and options.vision

    def describe(self) -> str:
        """``openai:<model> @ <base_url>``."""
        return f"openai:{self.options.model} @ {self.options.base_url}"

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    @classmethod
    def check_available(cls, options: BackendOptions) -> None:
        """Raise :class:`LLMConfigError` when ``options.api_key_env`` names an unset variable."""
        if isinstance(options, OpenAICompatOptions):
            _api_key(options)

    def _transport_error(self, error: httpx.HTTPError, request: CompletionRequest) -> LLMError:
        if isinstance(error, httpx.TimeoutException):
            return LLMTimeout(
                f"LLM server {self.url} did not answer within the {request.timeout_s:g} s "
                f"timeout (model {self.options.model!r}); raise llm.timeout_s (or the model's "
                "timeout_s) or check the server's load."
            )
        return LLMUnavailable(
            f"Cannot reach LLM server {self.url} ({type(error).__name__}: {error}); check that "
            "it runs and that the model's options.base_url is right."
        )

    def _completion(self, response: httpx.Response) -> Completion:
        status = response.status_code
        if status >= 400:
            raise self._status_error(status, response.text[:_MAX_BODY_CHARS])
        try:
            choice = response.json()["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMUpstreamError(
                f"LLM server {self.url} answered HTTP {status} without a chat completion "
                f"(expected choices[0].message.content): {response.text[:_SHOWN_BODY_CHARS]!r}",
                status=status,
                body=response.text[:_MAX_BODY_CHARS],
                retryable=False,
            ) from None
        if not isinstance(text, str):
            refusal = choice["message"].get("refusal")
            raise LLMUpstreamError(
                f"LLM model {self.options.model!r} gave no text (refusal: {refusal!r}).",
                status=status,
                body=response.text[:_MAX_BODY_CHARS],
                retryable=False,
            )
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(text=text, finish_reason=finish)

    def _status_error(self, status: int, body: str) -> LLMError:
        shown = body[:_SHOWN_BODY_CHARS]
        if status < 500 and status not in _RETRYABLE_4XX:
            hint = {
                401: " Check the model's options.api_key.",
                403: " Check the model's options.api_key and its permissions.",
                404: " Check options.model and that options.base_url ends in /v1.",
            }.get(status, " Check the request against the server's documentation.")
            return LLMRequestRejected(
                f"LLM server {self.url} rejected the request with HTTP {status}: {shown}{hint}",
                status=status,
                body=body,
            )
        return LLMUpstreamError(
            f"LLM server {self.url} failed with HTTP {status}: {shown}", status=status, body=body
        )


def _wire_message(message: Message) -> dict[str, Any]:
    """A chat message as the API takes it: text alone, or image parts then the text part."""
    if not message.images:
        return message.model_dump()
    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": image.data_url}} for image in message.images
    ]
    parts.append({"type": "text", "text": message.content})
    return {"role": message.role, "content": parts}


def _api_key(options: OpenAICompatOptions) -> str | None:
    if options.api_key is not None:
        return options.api_key.get_secret_value()
    name = options.api_key_env
    if name is None:
        return None
    if not os.environ.get(name):
        raise LLMConfigError(
            f"Environment variable {name} (the LLM server's options.api_key_env) is not set; "
            "export it, or set options.api_key."
        )
    return os.environ[name]
