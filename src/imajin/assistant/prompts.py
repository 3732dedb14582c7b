"""``/generate-prompts``: run a pipeline — permutations to briefs, briefs to checked prompts.

Each prompt is one permutation of the pipeline's data (drawn with the request's
seed), rendered into a brief and expanded by the LLM. Expansions run
concurrently; each passes the content policy (and, for character pipelines, the
adult-character guard) or is redone once, then reported.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from imajin.assistant.answers import Expansion, StyledExpansion
from imajin.assistant.chain import render
from imajin.assistant.checked import ask_checked
from imajin.assistant.pipeline_catalog import PipelineCatalog, PipelineSpec
from imajin.assistant.reasoning import Asker, Question, gather_all
from imajin.assistant.rule_one import quote
from imajin.assistant.schemas import GeneratePromptsRequest, ParsedPrompt
from imajin.errors import InvalidInput
from imajin.safety import build_negative_prompt, enforce, enforce_adult_character

__all__ = ["PromptPipelines"]

_SEED_RANGE = 2**31


@dataclass(frozen=True)
class _Prompt:
    """A prompt that passed the checks, with what the character guard added."""

    text: str
    negative_terms: tuple[str, ...]
    age: int | None


class PromptPipelines:
    """Runs pipelines from a catalogue.

    Args:
        catalog: The pipelines.
        asker: Asks the LLM, through the cache.
        max_prompts: The largest ``count`` a request may ask for.
    """

    def __init__(self, *, catalog: PipelineCatalog, asker: Asker, max_prompts: int) -> None:
        self.catalog = catalog
        self.asker = asker
        self.max_prompts = max_prompts

    async def generate(self, request: GeneratePromptsRequest) -> list[ParsedPrompt]:
        """``request.count`` prompts from the pipeline ``request.pipeline_id``.

        Raises:
            PipelineNotFound: No such pipeline.
            InvalidInput: An unknown or missing input, or too large a count.
            PolicyViolation: An input is hard-blocked.
            UnknownModel: ``llmModelId`` is not configured.
            StageFailed, ExpansionBlocked: The LLM failed or wrote refused prompts twice.
        """
        # 1. Check inputs.
        spec = self.catalog.get(request.pipeline_id)
        inputs = _checked_inputs(spec, request.inputs)
        if request.count > self.max_prompts:
            raise InvalidInput(
                f"`count` is {request.count}; at most {self.max_prompts} prompts per request "
                "(assistant.max_prompts).",
                field="count",
            )
        if request.llm_model_id is not None:
            self.asker.llm.resolve(request.llm_model_id)
        # 2. Draw the permutations, reproducibly from the seed.
        seed = request.seed if request.seed is not None else secrets.randbelow(_SEED_RANGE)
        # Not for secrets: the seed only makes the choice of permutations reproducible.
        combos = _permutations(spec, inputs, request.count, random.Random(seed))  # noqa: S311
        # 3. Expand every brief concurrently.
        return await gather_all(
            self._expand(spec, request, inputs, combo, seed + index)
            for index, combo in enumerate(combos)
        )

    async def _expand(
        self,
        spec: PipelineSpec,
        request: GeneratePromptsRequest,
        inputs: Mapping[str, str],
        combo: Mapping[str, str],
        seed: int,
    ) -> ParsedPrompt:
        values = {**inputs, **combo}
        brief = render(spec.brief, values)
        answer_type = Expansion if spec.output.model is not None else StyledExpansion
        quoted = {name: quote(value) for name, value in {**values, "brief": brief}.items()}
        question = Question(
            stage=f"pipeline.{spec.id}",
            family="pipeline",
            system=spec.system,
            text=render(spec.question, quoted),
            answer_type=answer_type,
            model_id=request.llm_model_id,
            about=brief,
        )

        def check(answer: BaseModel) -> _Prompt:
            if not isinstance(answer, Expansion):
                raise TypeError(f"expected an Expansion, got {type(answer).__name__}")
            return _checked(spec, answer.prompt, seed)

        written = await ask_checked(self.asker, question, check, use_cache=request.cache)
        answer = written.answered.answer
        if not isinstance(answer, Expansion):
            raise TypeError(f"expected an Expansion, got {type(answer).__name__}")
        style = spec.output.model or (
            answer.model_style if isinstance(answer, StyledExpansion) else "photorealistic"
        )
        prompt = written.result
        negative = build_negative_prompt(
            style,
            spec.output.negative_mode,
            extra_terms=[*answer.negative_terms, *prompt.negative_terms],
        )
        metadata: dict[str, object] = {
            "pipelineId": spec.id,
            "permutation": dict(combo),
            "inputs": dict(inputs),
            "brief": brief,
            "llmModel": written.answered.model_id,
            "cached": written.answered.cached,
            "regenerated": written.regenerated,
        }
        if prompt.age is not None:
            metadata["characterAge"] = prompt.age
        return ParsedPrompt(
            prompt=prompt.text,
            negative_prompt=negative,
            model=style,
            width=spec.output.width,
            height=spec.output.height,
            seed=seed,
            metadata=metadata,
        )


def _checked(spec: PipelineSpec, text: str, seed: int) -> _Prompt:
    """The prompt after the policy (and the adult-character guard for character pipelines)."""
    if not text.strip():
        raise InvalidInput("The expanded prompt is empty.", field="prompt")
    if spec.output.character:
        character = enforce_adult_character(text, seed=seed)
        return _Prompt(character.prompt, character.negative_terms, character.age)
    enforce(text, field="prompt")
    return _Prompt(text.strip(), (), None)


def _checked_inputs(spec: PipelineSpec, given: Mapping[str, object]) -> dict[str, str]:
    unknown = sorted(set(given) - set(spec.inputs))
    if unknown:
        raise InvalidInput(
            f"Pipeline {spec.id!r} has no input {unknown[0]!r}; its inputs are: "
            f"{', '.join(spec.inputs) or 'none'}.",
            field=f"inputs.{unknown[0]}",
        )
    inputs: dict[str, str] = {}
    for name, definition in spec.inputs.items():
        value = given.get(name, definition.default)
        if value is None or str(value).strip() == "":
            if definition.required:
                raise InvalidInput(
                    f"Pipeline {spec.id!r} needs input {name!r}: {definition.description}",
                    field=f"inputs.{name}",
                )
            continue
        inputs[name] = str(value).strip()
        enforce(inputs[name], field=f"inputs.{name}")
    return inputs


def _permutations(
    spec: PipelineSpec, inputs: Mapping[str, str], count: int, rng: random.Random
) -> list[dict[str, str]]:
    """``count`` combinations, distinct while there are enough; an input fixes its axis."""
    axes = {
        axis: [inputs[axis]] if axis in inputs else values
        for axis, values in spec.permutations.items()
    }
    sizes = [len(values) for values in axes.values()]
    total = math.prod(sizes)
    # Sample combination numbers without drawing the whole product, then cycle if short.
    numbers = rng.sample(range(total), min(count, total))
    numbers = [numbers[index % len(numbers)] for index in range(count)]
    combos = []
    for number in numbers:
        combo: dict[str, str] = {}
        rest = number
        for axis, values in axes.items():
            rest, position = divmod(rest, len(values))
            combo[axis] = values[position]
        combos.append(combo)
    return combos
