"""``/analyze-context``: a page's context to a GenerationConfig, by LLM reasoning only.

Stage 1 (the chain up to validation) decides model style, maturity and the
extraction goals; stage 2 writes the prompt. Nothing here inspects a term: every
decision is an LLM answer, weighed by the caller's instance configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from imajin.assistant.answers import Decision, PromptDraft, hierarchy_answer_type
from imajin.assistant.chain import ChainSpec
from imajin.assistant.checked import ask_checked
from imajin.assistant.errors import InvalidInstanceConfig
from imajin.assistant.goals import GoalGroup, resolve_goals
from imajin.assistant.instance import InstanceCatalog, InstanceConfig
from imajin.assistant.reasoning import Answered, Asker, ChainRunner, ModelFor, conclusions
from imajin.assistant.rule_one import quote
from imajin.assistant.schemas import (
    AnalyzeContextRequest,
    ChainStep,
    GenerationConfig,
    ParsedPrompt,
)
from imajin.errors import InvalidInput
from imajin.safety import (
    MODEL_STYLES,
    MaturityBand,
    MaturityLevel,
    allowed_band,
    build_negative_prompt,
    enforce,
)

__all__ = ["ContextAnalyzer", "chain_step"]

_SCALE = tuple(MaturityLevel)  # lowest first
_NOT_STATED = "not stated"  # how a value the caller left out reads in a question


def chain_step(answered: Answered) -> ChainStep:
    """An answer as the response's ``reasoningChain`` shows it."""
    return ChainStep(
        stage=answered.question.stage,
        question=answered.question.text,
        response=answered.answer.model_dump(mode="json"),
        llm_model=answered.model_id,
        cached=answered.cached,
        duration_ms=answered.duration_ms,
    )


class ContextAnalyzer:
    """Runs the reasoning chain for ``/analyze-context``.

    Args:
        chain: The chain (stages and prompt stage).
        asker: Asks the LLM, through the cache.
        instances: The deployer's named instances.
        max_filters: Most filter terms per request.
    """

    def __init__(
        self, *, chain: ChainSpec, asker: Asker, instances: InstanceCatalog, max_filters: int
    ) -> None:
        self.chain = chain
        self.asker = asker
        self.instances = instances
        self.max_filters = max_filters
        self._runner = ChainRunner(chain, asker)

    async def analyze(self, request: AnalyzeContextRequest) -> GenerationConfig:
        """Reason about ``request``'s context and write its prompt.

        Raises:
            PolicyViolation: The category, city or a filter is hard-blocked (422).
            InstanceConfigMissing, InvalidInstanceConfig, UnknownModel: Fixable by the caller.
            StageFailed: A stage got no valid answer (502, the stage named).
            ExpansionBlocked: The written prompt was refused twice (502).
        """
        # 1. Check inputs: the policy first, then the instance and what it names.
        filters = self._checked_filters(request)
        instance = self.instances.resolve(
            request.instance_config, request.instance, yaml_text=request.instance_yaml
        )
        groups = resolve_goals(instance.extraction_goals)
        model_for = self._model_chooser(instance, groups, request.llm_model_id)
        wishes = request.maturity
        band = allowed_band(
            instance.maturity_policy,
            minimum=wishes.minimum_rating if wishes else None,
            maximum=wishes.maximum_rating if wishes else None,
        )
        expected = wishes.expected_rating if wishes else None
        context = _context(
            request, filters=filters, instance=instance, groups=groups, band=band, expected=expected
        )

        # 2. Stage 1: the chain, each stage as soon as the ones it names have answered.
        result = await self._runner.run(
            context=context,
            filters=filters,
            groups=groups,
            model_for=model_for,
            use_cache=request.cache,
            answer_types={
                "WeightedHierarchy": hierarchy_answer_type(list(instance.factor_weights))
            },
        )
        decision = _typed(result.single(self.chain.decision_stage.name), Decision)
        level, clamped = band.clamp(decision.maturity_level)

        # 3. Stage 2: the prompt, written from the decision after clamping.
        values = {
            **context,
            **result.rendered,
            "model_style": quote(decision.model_style),
            "maturity_level": quote(level.value),
            "maturity_description": quote(level.description),
        }
        question = self._runner.question(self.chain.prompt, values, model_for)
        written = await ask_checked(self.asker, question, _checked_prompt, use_cache=request.cache)
        draft = _typed(written.answered.answer, PromptDraft)

        # 4. The GenerationConfig: sfw results get the SafeSearch negatives too.
        mode = "indexable" if level == MaturityLevel.SFW else "platform"
        negative = build_negative_prompt(
            decision.model_style, mode, extra_terms=draft.negative_terms
        )
        extracted = _extracted(result.answers.get(_extraction_stage(self.chain), []), level)
        reasoning = decision.reasoning
        if clamped:
            reasoning += (
                f" The decided maturity level {decision.maturity_level.value} was clamped to "
                f"{level.value} (allowed: {band.minimum.value} to {band.maximum.value})."
            )
        prompt = ParsedPrompt(
            prompt=written.result,
            negative_prompt=negative,
            model=decision.model_style,
            metadata={
                "instanceName": instance.instance_name,
                "maturityLevel": level.value,
                "negativeMode": mode,
                "regenerated": written.regenerated,
            },
        )
        return GenerationConfig(
            model=decision.model_style,
            maturity_level=level,
            maturity_clamped=clamped,
            prompts=[prompt],
            extracted=extracted,
            reasoning=reasoning,
            reasoning_chain=[chain_step(a) for a in [*result.steps(), written.answered]],
            instance_name=instance.instance_name,
        )

    def _checked_filters(self, request: AnalyzeContextRequest) -> list[str]:
        if len(request.filters) > self.max_filters:
            raise InvalidInput(
                f"`filters` has {len(request.filters)} terms; at most {self.max_filters} are "
                "allowed (assistant.max_filters).",
                field="filters",
            )
        enforce(request.category, field="category")
        if request.city is not None:
            enforce(request.city, field="city")
        for index, text in enumerate(request.filters):
            enforce(text, field=f"filters.{index}")
        return list(dict.fromkeys(text.strip() for text in request.filters))

    def _model_chooser(
        self, instance: InstanceConfig, groups: list[GoalGroup], requested: str | None
    ) -> ModelFor:
        selection = instance.model_selection
        stages = set(self.chain.stage_names())
        stages |= {f"{_extraction_stage(self.chain)}.{group.name}" for group in groups}
        for stage in selection.stage_overrides:
            if stage not in stages:
                raise InvalidInstanceConfig(
                    f"modelSelection.stageOverrides names stage {stage!r}, which this chain does "
                    f"not have; stages: {', '.join(sorted(stages))}.",
                    field=f"instanceConfig.modelSelection.stageOverrides.{stage}",
                )
        # Fail before the first question, naming the configured models.
        for model_id in {requested, selection.default_model, *selection.stage_overrides.values()}:
            if model_id is not None:
                self.asker.llm.resolve(model_id)

        def model_for(shown: str, family: str) -> str | None:
            if requested is not None:
                return requested
            overrides = selection.stage_overrides
            return overrides.get(shown) or overrides.get(family) or selection.default_model

        return model_for


def _typed(answer: BaseModel, expected: type[Any]) -> Any:
    if not isinstance(answer, expected):
        raise TypeError(f"expected a {expected.__name__} answer, got {type(answer).__name__}")
    return answer


def _checked_prompt(answer: BaseModel) -> str:
    prompt = _typed(answer, PromptDraft).prompt.strip()
    if not prompt:
        raise InvalidInput("The written prompt is empty.", field="prompt")
    enforce(prompt, field="prompt")
    return str(prompt)


def _extraction_stage(chain: ChainSpec) -> str:
    return next((s.name for s in chain.stages if s.for_each == "goal_group"), "extraction")


def _extracted(answers: list[Answered], level: MaturityLevel) -> dict[str, Any]:
    extracted: dict[str, Any] = {}
    for answered in answers:
        extracted.update(conclusions(answered.answer))
    # The decided level (after clamping) is the one the image gets.
    if "maturity_level" in extracted:
        extracted["maturity_level"] = level.value
    return extracted


def _context(
    request: AnalyzeContextRequest,
    *,
    filters: list[str],
    instance: InstanceConfig,
    groups: list[GoalGroup],
    band: MaturityBand,
    expected: MaturityLevel | None,
) -> Mapping[str, str]:
    """The placeholders every question may name, as JSON (rule-1 guard reads them as data)."""
    return {
        "category": quote(request.category),
        "city": quote(request.city or _NOT_STATED),
        "filters": quote(filters),
        "expected_maturity": quote(expected.value if expected else _NOT_STATED),
        "maturity_band": quote({"minimum": band.minimum.value, "maximum": band.maximum.value}),
        "maturity_scale": quote([{"level": lv.value, "means": lv.description} for lv in _SCALE]),
        "instance_name": quote(instance.instance_name),
        "weights": quote(instance.factor_weights),
        "thresholds": quote(instance.thresholds),
        "goals": quote([goal for group in groups for goal in group.describe()]),
        "model_styles": quote(list(MODEL_STYLES)),
    }
