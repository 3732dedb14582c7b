"""Evaluate /analyze-context on a labelled dev set: accuracy, schema-valid rate, latency.

    .venv/bin/python -m benchmarks.assistant.eval_assistant [--start N] [--limit N]
    .venv/bin/python -m benchmarks.assistant.eval_assistant --url http://127.0.0.1:8001/v1 \\
        --model qwen2.5-7b-instruct [--api-key KEY]

Runs every case of ``devset.yaml`` through ``POST /analyze-context`` of an in-process
app (scripted nothing: the real chain on the embedded SmolLM2, or on the
OpenAI-compatible server given), then the same cases again to time cached repeats.
Reports style accuracy (model style == label), maturity accuracy (decided level
inside the labelled band), the rate of requests whose every answer validated,
and p50/p95 latency per stage, per request, and per cached repeat. A local model
answers one question at a time, so a stage's latency includes the wait for the
model while the stage's other questions (one per filter, one per goal group) run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from imajin.api.app import create_app
from imajin.config.llm import LLMSettings, ModelDefinition
from imajin.config.loader import load_settings
from imajin.safety import MaturityLevel
from imajin.store.migrate import upgrade
from imajin.wiring import build_platform

HERE = Path(__file__).parent


def _llm_settings(args: argparse.Namespace) -> LLMSettings:
    if args.url is None:
        return LLMSettings(timeout_s=args.timeout)  # the embedded default, SmolLM2
    options: dict[str, Any] = {"base_url": args.url, "model": args.model}
    if args.api_key:
        options["api_key"] = args.api_key
    return LLMSettings(
        default_model="eval",
        models={"eval": ModelDefinition(backend="openai", options=options)},
        timeout_s=args.timeout,
    )


@contextmanager
def _client(data_dir: Path, args: argparse.Namespace) -> Iterator[tuple[TestClient, str]]:
    """An in-process app with the platform's own assistant (its LLM from ``args``)."""
    settings = load_settings(environ={"IMAJIN_DATA_DIR": str(data_dir)}, cwd=data_dir)
    settings = settings.model_copy(update={"llm": _llm_settings(args)})
    platform = build_platform(settings)
    upgrade(platform.database)
    registry = platform.llm
    try:
        app = create_app(platform)
        backend = registry.resolve(None).backend
        load = getattr(backend, "load", None)
        if callable(load):  # a local model: load it now, so latencies are answers only
            started = time.perf_counter()
            load()
            print(f"Loaded {backend.describe()} in {time.perf_counter() - started:.1f} s")
        label = f"{settings.llm.default_model} ({backend.describe()})"
        yield TestClient(app), label  # no lifespan: the job system stays idle
    finally:
        platform.close()


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) / 1000:7.2f} s   p95 {p95 / 1000:7.2f} s"


def _run(client: TestClient, cases: list[dict[str, Any]], instance: dict[str, Any]) -> list[Any]:
    results = []
    for number, case in enumerate(cases, 1):
        body = {
            "category": case["category"],
            "city": case.get("city"),
            "filters": case["filters"],
            "instanceConfig": instance,
        }
        started = time.perf_counter()
        response = client.post("/analyze-context", json=body)
        elapsed = (time.perf_counter() - started) * 1000
        payload = response.json()
        results.append((case, response.status_code, payload, elapsed))
        outcome = payload.get("model", payload.get("error", {}).get("code"))
        print(f"  {number:3d}/{len(cases)} {elapsed / 1000:6.1f} s  {case['category']}: {outcome}")
    return results


def _report(label: str, first: list[Any], repeat: list[Any]) -> dict[str, Any]:
    valid = [r for r in first if r[1] == 200]
    style_ok = sum(r[2]["model"] == r[0]["style"] for r in valid)
    maturity_ok = 0
    for case, _status, payload, _ms in valid:
        low, high = (MaturityLevel(level) for level in case["maturity"])
        maturity_ok += low <= MaturityLevel(payload["maturityLevel"]) <= high
    stages: dict[str, list[float]] = defaultdict(list)
    for _case, _status, payload, _ms in valid:
        for step in payload["reasoningChain"]:
            stages[step["stage"].split(".")[0]].append(step["durationMs"])
    errors: dict[str, int] = defaultdict(int)
    for _case, status, payload, _ms in first:
        if status != 200:
            errors[f"{status} {payload.get('error', {}).get('code')}"] += 1
    decided = Counter(f"{r[2]['model']}/{r[2]['maturityLevel']}" for r in valid)
    clamped = sum(r[2]["maturityClamped"] for r in valid)
    cached = [r for r in repeat if r[1] == 200 and all(s["cached"] for s in r[2]["reasoningChain"])]
    total = len(first)
    summary = {
        "llm": label,
        "cases": total,
        "schema_valid_rate": len(valid) / total,
        "style_accuracy": style_ok / total,
        "maturity_accuracy": maturity_ok / total,
        "errors": dict(errors),
        "decided": dict(decided),
        "clamped": clamped,
        "cached_repeats_fully_cached": f"{len(cached)}/{len(repeat)}",
    }
    print(f"\n== {label}: {total} cases")
    print(f"schema-valid requests  {len(valid)}/{total} ({summary['schema_valid_rate']:.0%})")
    print(f"style accuracy         {style_ok}/{total} ({summary['style_accuracy']:.0%})")
    print(f"maturity accuracy      {maturity_ok}/{total} ({summary['maturity_accuracy']:.0%})")
    print(f"decided (style/level)  {dict(decided)}; clamped {clamped}")
    if errors:
        print(f"errors                 {dict(errors)}")
    print("latency per stage (one question):")
    for stage, values in stages.items():
        print(f"  {stage:20s} {_percentiles(values)}   n={len(values)}")
    print(f"  {'whole request':20s} {_percentiles([r[3] for r in first])}")
    repeats = _percentiles([r[3] for r in repeat])
    print(f"  {'cached repeat':20s} {repeats}   ({len(cached)} fully cached)")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="OpenAI-compatible base URL (default: embedded SmolLM2).")
    parser.add_argument("--model", help="Served model id, with --url.")
    parser.add_argument("--api-key", help="Key for --url.")
    parser.add_argument("--start", type=int, default=0, help="Skip the first N cases.")
    parser.add_argument("--limit", type=int, help="Run only N cases.")
    parser.add_argument("--timeout", type=float, default=300.0, help="Seconds per LLM answer.")
    parser.add_argument("--devset", type=Path, default=HERE / "devset.yaml")
    parser.add_argument("--instance", type=Path, default=HERE / "eval_instance.yaml")
    parser.add_argument("--output", type=Path, help="Also write the summary here as JSON.")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress, live
    if args.url is not None and not args.model:
        parser.error("--url needs --model (the served model id)")

    cases = yaml.safe_load(args.devset.read_text())["cases"][args.start :]
    cases = cases[: args.limit]
    instance = yaml.safe_load(args.instance.read_text())
    with tempfile.TemporaryDirectory() as data, _client(Path(data), args) as (client, label):
        print(f"Evaluating {len(cases)} cases on {label}")
        first = _run(client, cases, instance)
        print("Cached repeat:")
        repeat = _run(client, cases, instance)
        summary = _report(label, first, repeat)
    if args.output:
        args.output.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
