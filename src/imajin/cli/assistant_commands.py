"""`imajin analyze`, `imajin prompts`, `imajin pipelines`: the prompt assistant from a shell.

Each runs the assistant in this process (settings, LLM and store from the
configuration), or asks a running server with ``--url``. The reasoning chain is
printed stage by stage; ``--json`` prints the server's JSON instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from imajin.cli.context import settings_from
from imajin.client import ImajinClient, calls
from imajin.contracts.assistant import (
    AnalyzeContextRequest,
    GeneratePromptsRequest,
    GenerationConfig,
    ParsedPrompt,
)

if TYPE_CHECKING:  # the assistant (LLM layer, store) loads only for a command that runs it
    from imajin.assistant import AssistantService

__all__ = ["analyze", "pipelines", "prompts", "register"]

T = TypeVar("T")

Url = Annotated[
    str | None,
    typer.Option("--url", help="Ask this running server instead of running in-process."),
]
ApiKey = Annotated[
    str | None, typer.Option("--api-key", envvar="IMAJIN_API_KEY", help="Key for --url.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the JSON response.")]
LlmModel = Annotated[
    str | None, typer.Option("--llm-model", help="LLM model id (a key of llm.models).")
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Ask the LLM afresh.")]


def register(app: typer.Typer) -> None:
    """Add ``analyze``, ``prompts`` and ``pipelines`` to the root ``imajin`` command."""
    app.command("analyze")(analyze)
    app.command("prompts")(prompts)
    app.command("pipelines")(pipelines)


def _run(
    ctx: typer.Context,
    *,
    url: str | None,
    api_key: str | None,
    remote: Callable[[ImajinClient], T],
    local: Callable[[AssistantService], T],
) -> T:
    """``remote`` against the server at ``url``, or ``local`` on an in-process assistant."""
    if url is not None:
        with ImajinClient(url, api_key=api_key) as client:
            return remote(client)
    from imajin.wiring import local_assistant  # noqa: PLC0415  # see TYPE_CHECKING above

    with local_assistant(settings_from(ctx)) as assistant:
        return local(assistant)


def analyze(
    ctx: typer.Context,
    *,
    category: Annotated[str, typer.Option("--category", help="What the page is about.")],
    city: Annotated[str | None, typer.Option("--city", help="Where, for a local page.")] = None,
    filters: Annotated[
        list[str] | None, typer.Option("--filter", "-f", help="A filter term; repeat for more.")
    ] = None,
    instance: Annotated[
        str | None,
        typer.Option(
            "--instance",
            help="An instance configuration YAML file, or the name of one in config.yaml "
            "(assistant.instances). See examples/instances/seo.yaml.",
        ),
    ] = None,
    minimum: Annotated[str | None, typer.Option("--minimum", help="Lowest maturity.")] = None,
    maximum: Annotated[str | None, typer.Option("--maximum", help="Highest maturity.")] = None,
    llm_model: LlmModel = None,
    no_cache: NoCache = False,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Reason about a page's context with the LLM and print the chain, stage by stage."""
    body: dict[str, Any] = {
        "category": category,
        "city": city,
        "filters": filters or [],
        "llmModelId": llm_model,
        "cache": not no_cache,
    }
    if minimum or maximum:
        body["maturity"] = {"minimumRating": minimum, "maximumRating": maximum}
    if instance is not None and Path(instance).is_file():
        from imajin.assistant.instance import load_instance_file  # noqa: PLC0415

        body["instanceConfig"] = load_instance_file(Path(instance)).model_dump(mode="json")
    elif instance is not None:
        body["instance"] = instance
    request = AnalyzeContextRequest.model_validate(body)
    console = Console()
    with console.status("Reasoning…", spinner="dots"):
        config = _run(
            ctx,
            url=url,
            api_key=api_key,
            remote=lambda client: client.send(calls.send_analyze_context(request)),
            local=lambda assistant: asyncio.run(assistant.analyze_context(request)),
        )
    if as_json:
        typer.echo(config.model_dump_json(indent=2))
        return
    _print_config(console, config)


def prompts(
    ctx: typer.Context,
    *,
    pipeline: Annotated[str, typer.Option("--pipeline", "-p", help="The pipeline's id.")],
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many prompts.")] = 1,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="NAME=VALUE for a pipeline input; repeat for more."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Reproducible draws.")] = None,
    llm_model: LlmModel = None,
    no_cache: NoCache = False,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Run a prompt pipeline and print the prompts it writes."""
    request = GeneratePromptsRequest(
        pipeline_id=pipeline,
        inputs=_parse_inputs(inputs or []),
        count=count,
        seed=seed,
        llm_model_id=llm_model,
        cache=not no_cache,
    )
    console = Console()
    with console.status("Writing prompts…", spinner="dots"):
        written = _run(
            ctx,
            url=url,
            api_key=api_key,
            remote=lambda client: client.send(calls.send_generate_prompts(request)),
            local=lambda assistant: asyncio.run(assistant.generate_prompts(request)).prompts,
        )
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in written], indent=2))
        return
    for index, prompt in enumerate(written, 1):
        console.print(_prompt_panel(prompt, title=f"{pipeline} #{index}"))


def pipelines(ctx: typer.Context, *, url: Url = None, api_key: ApiKey = None) -> None:
    """List the prompt pipelines: shipped ones and the operator's."""
    listed = _run(
        ctx,
        url=url,
        api_key=api_key,
        remote=lambda client: client.list_pipelines(),
        local=lambda assistant: assistant.list_pipelines(),
    )
    table = Table("id", "name", "inputs", "description")
    for item in listed:
        inputs = ", ".join(f"{n}{'*' if i.required else ''}" for n, i in item.inputs.items())
        table.add_row(item.id, item.name, inputs or "-", item.description)
    Console().print(table)


def _parse_inputs(pairs: list[str]) -> dict[str, str]:
    inputs = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE.", param_hint="--input")
        inputs[name.strip()] = value
    return inputs


def _print_config(console: Console, config: GenerationConfig) -> None:
    for number, step in enumerate(config.reasoning_chain, 1):
        source = "cache" if step.cached else f"{step.duration_ms / 1000:.1f} s"
        answer = yaml.safe_dump(step.response, sort_keys=False, allow_unicode=True, width=90)
        body = Group(Text(step.question, style="dim"), Text(""), Text(answer.rstrip()))
        title = f"{number}. {step.stage}  [{step.llm_model}, {source}]"
        console.print(Panel(body, title=Text(title), title_align="left"))
    summary = Table.grid(padding=(0, 2))
    summary.add_row("instance", config.instance_name)
    summary.add_row("model style", config.model)
    clamped = " (clamped into the allowed band)" if config.maturity_clamped else ""
    summary.add_row("maturity", f"{config.maturity_level.value}{clamped}")
    for goal, value in config.extracted.items():
        summary.add_row(goal, str(value))
    summary.add_row("reasoning", config.reasoning)
    console.print(Panel(summary, title="decision", title_align="left"))
    for prompt in config.prompts:
        console.print(_prompt_panel(prompt, title="prompt"))


def _prompt_panel(prompt: ParsedPrompt, *, title: str) -> Panel:
    details = Table.grid(padding=(0, 2))
    details.add_row("prompt", prompt.prompt)
    details.add_row("negative", Text(prompt.negative_prompt, style="dim"))
    details.add_row("model", prompt.model)
    if prompt.width and prompt.height:
        details.add_row("size", f"{prompt.width}×{prompt.height}")
    if prompt.seed is not None:
        details.add_row("seed", str(prompt.seed))
    return Panel(details, title=title, title_align="left")
