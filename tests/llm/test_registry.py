"""Backend registry, settings, and model-id resolution."""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import pytest
from pydantic import Field, ValidationError

from imajin.errors import ConfigError, InvalidInput
from imajin.llm import (
    BackendNotInstalled,
    BackendOptions,
    Completion,
    CompletionRequest,
    LLMBackend,
    LLMRegistry,
    LLMSettings,
    Message,
    ModelDefinition,
    ScriptedBackend,
    UnknownBackend,
    UnknownModel,
    backend_class,
    backend_names,
    register_backend,
)
from imajin.llm.backends.llamacpp import LlamaCppBackend, LlamaCppOptions
from imajin.llm.backends.openai_compat import OpenAICompatBackend
from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend, packaged_smollm2_gguf

LLAMA_CPP_INSTALLED = importlib.util.find_spec("llama_cpp") is not None


def scripted_settings(**extra: object) -> LLMSettings:
    return LLMSettings.model_validate(
        {
            "default_model": "fast",
            "models": {
                "fast": {"backend": "scripted", "options": {"answers": ["one", "two"]}},
                "reasoning": {"backend": "scripted", "timeout_s": 300, "max_tokens": 2048},
                "served": {
                    "backend": "openai",
                    "options": {"base_url": "http://127.0.0.1:9/v1", "model": "qwen"},
                    "retries": 0,
                },
            },
            **extra,
        }
    )


def test_builtins_are_registered_through_the_registry() -> None:
    assert {"transformers-gguf", "llamacpp", "openai", "scripted"} <= set(backend_names())
    assert backend_class("openai") is OpenAICompatBackend
    assert backend_class("transformers-gguf") is TransformersGGUFBackend


def test_unknown_backend_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownBackend, match=r"No LLM backend 'vllm' — registered: .*openai"):
        backend_class("vllm")


def test_register_a_third_party_backend_and_use_it_from_settings() -> None:
    class EchoOptions(BackendOptions):
        prefix: str = Field("echo: ", description="Put before the echoed text.")

    class EchoBackend(LLMBackend):
        options_type: ClassVar[type[BackendOptions]] = EchoOptions

        def complete(self, request: CompletionRequest) -> Completion:
            assert isinstance(self.options, EchoOptions)
            return Completion(text=self.options.prefix + request.messages[-1].content)

    register_backend("echo-test", EchoBackend, replace=True)
    settings = LLMSettings(
        default_model="echo",
        models={"echo": ModelDefinition(backend="echo-test", options={"prefix": "> "})},
    )

    assert LLMRegistry(settings).client_for().complete([Message.user("hi")]) == "> hi"
    with pytest.raises(ValueError, match="already registered"):
        register_backend("echo-test", ScriptedBackend)
    with pytest.raises(ValueError, match="malformed"):
        register_backend("Echo Test", EchoBackend)


def test_model_ids_resolve_to_backends_and_policies() -> None:
    registry = LLMRegistry(scripted_settings(timeout_s=30))

    assert registry.model_ids == ["fast", "reasoning", "served"]
    assert registry.default_model_id == "fast"
    default = registry.resolve(None)
    assert default.model_id == "fast"
    assert isinstance(default.backend, ScriptedBackend)
    assert default.policy.timeout_s == 30
    reasoning = registry.resolve("reasoning")
    assert (reasoning.policy.timeout_s, reasoning.policy.max_tokens) == (300, 2048)
    assert registry.resolve("served").policy.retries == 0
    assert registry.describe() == {"fast": "scripted", "reasoning": "scripted", "served": "openai"}


def test_backends_are_built_once_and_shared_by_identical_definitions() -> None:
    settings = LLMSettings.model_validate(
        {
            "default_model": "a",
            "models": {"a": {"backend": "scripted"}, "b": {"backend": "scripted"}},
        }
    )
    registry = LLMRegistry(settings)

    assert registry.resolve("a").backend is registry.resolve("a").backend
    assert registry.resolve("a").backend is registry.resolve("b").backend
    registry.close()


def test_clients_default_to_their_model_and_a_call_may_override_it() -> None:
    registry = LLMRegistry(scripted_settings())
    fast = registry.client_for()
    reasoning = registry.client_for("reasoning")

    assert fast.complete([Message.user("q")]) == "one"
    assert reasoning.complete([Message.user("q")]) == "ok"
    assert reasoning.complete([Message.user("q")], model="fast") == "two"
    assert registry.client_for("reasoning") is reasoning


def test_unknown_model_id_is_invalid_input_listing_known_ids() -> None:
    registry = LLMRegistry(scripted_settings())
    expected = (
        r"No LLM model 'gpt-9' configured — known: fast, reasoning, served; "
        r"add one under llm\.models in config\.yaml"
    )

    with pytest.raises(UnknownModel, match=expected) as caught:
        registry.client_for("gpt-9")
    assert isinstance(caught.value, InvalidInput)
    with pytest.raises(UnknownModel):
        registry.client_for().complete([Message.user("q")], model="gpt-9")


def test_registry_passes_the_prompt_guard_to_its_clients() -> None:
    seen: list[list[Message]] = []
    registry = LLMRegistry(scripted_settings(), prompt_guard=seen.append)

    registry.client_for("reasoning").complete([Message.user("q")])

    assert seen == [[Message.user("q")]]


def test_bad_options_fail_at_start_up_naming_the_key() -> None:
    settings = LLMSettings.model_validate(
        {"default_model": "x", "models": {"x": {"backend": "openai", "options": {"model": "m"}}}}
    )

    with pytest.raises(ConfigError, match=r"llm\.models\.x\.options .* base_url: Field required"):
        LLMRegistry(settings)


def test_settings_refuse_an_undefined_default_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match=r"llm\.default_model 'nope' is not defined"):
        LLMSettings(default_model="nope")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        LLMSettings.model_validate({"timeout": 5})


def test_default_settings_use_the_embedded_model() -> None:
    settings = LLMSettings()

    assert settings.default_model == "smollm2"
    assert settings.models["smollm2"].backend == "transformers-gguf"
    registry = LLMRegistry(settings)  # checks the GGUF is installed; loads nothing
    backend = registry.resolve(None).backend
    assert backend.describe() == "transformers-gguf:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert packaged_smollm2_gguf().stat().st_size > 50_000_000


def test_missing_gguf_file_fails_at_start_up(tmp_path: object) -> None:
    settings = LLMSettings.model_validate(
        {
            "default_model": "g",
            "models": {
                "g": {"backend": "transformers-gguf", "options": {"gguf_path": "/nope.gguf"}}
            },
        }
    )

    with pytest.raises(BackendNotInstalled, match=r"/nope\.gguf does not exist"):
        LLMRegistry(settings)


@pytest.mark.skipif(LLAMA_CPP_INSTALLED, reason="llama-cpp-python is installed here")
def test_llamacpp_without_its_extra_says_what_to_install() -> None:
    hint = r"pip install 'imajin\[llamacpp\]'"
    with pytest.raises(BackendNotInstalled, match=hint) as caught:
        LlamaCppBackend(LlamaCppOptions())
    assert isinstance(caught.value, ConfigError)

    settings = LLMSettings.model_validate(
        {"default_model": "l", "models": {"l": {"backend": "llamacpp"}}}
    )
    with pytest.raises(BackendNotInstalled, match=hint):
        LLMRegistry(settings)
