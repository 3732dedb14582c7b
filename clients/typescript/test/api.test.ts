/**
 * The client against a live `imajin serve` (tiny models, a scripted LLM, API keys on),
 * started by tests/clients/test_typescript_client.py, which names the models below.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ApiError,
  type ChatImageResponse,
  derivative,
  ImajinClient,
  isAccepted,
  type ProfileAnalysis,
  type ProfileCreated,
  type ProfileGenerated,
  type Selfie,
  type ServerEvent,
  type VariationPublic,
} from "../src/index.js";
import { API_KEY, NO_SELFIE, NO_SERVER, SELFIE, SERVER } from "./helpers.js";

const MODEL = process.env.IMAJIN_MODEL ?? "tiny-sd15";
const client = new ImajinClient({ baseUrl: SERVER ?? "http://127.0.0.1:9", apiKey: API_KEY });
const WEBP = [0x52, 0x49, 0x46, 0x46]; // "RIFF"
const PNG = [0x50, 0x4e, 0x47]; // "PNG" after the 0x89

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, seconds = 240): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    assert.ok(Date.now() < deadline, `not done in ${seconds} s: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `not an ApiError: ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}

describe("against a live imajin serve", { skip: NO_SERVER }, () => {
  it("sends the API key: without it the server answers 401 as an ApiError", async () => {
    const anonymous = new ImajinClient({ baseUrl: SERVER ?? "" });
    const error = await rejection(anonymous.jobs.list());
    assert.equal(error.status, 401);
    assert.equal(error.code, "unauthorized");
    assert.match(error.message, /API key/);
    assert.ok(error.requestId);
    const page = await client.jobs.list({ limit: 1 });
    assert.equal(page.limit, 1);
  });

  it("analyzeContext answers a GenerationConfig with its reasoning chain", async () => {
    const config = await client.analyzeContext({
      category: "coffee shops",
      city: "Lisbon",
      filters: ["outdoor seating"],
      instance: "seo", // the repository's examples/instances/seo.yaml, named in the server's config
      cache: false,
    });
    assert.equal(config.instanceName, "seo");
    assert.ok(["photorealistic", "anime"].includes(config.model), config.model);
    assert.ok(config.prompts.length >= 1);
    const prompt = config.prompts[0];
    assert.ok(prompt !== undefined && prompt.prompt.length > 0);
    assert.match(prompt.negativePrompt, /\bchild\b/); // legal terms, always
    assert.ok(config.reasoningChain.length >= 1);
    for (const step of config.reasoningChain) {
      assert.ok(step.stage && step.question, JSON.stringify(step));
    }
  });

  it("generatePrompts expands a shipped pipeline", async () => {
    const { pipelines } = await client.listPipelines();
    assert.ok(pipelines.some((p) => p.id === "seo-location"), JSON.stringify(pipelines));
    const answer = await client.generatePrompts({
      pipelineId: "seo-location",
      inputs: { category: "bakeries", city: "Porto" },
      count: 1,
      cache: false,
    });
    assert.equal(answer.prompts.length, 1);
    assert.match(answer.prompts[0]?.negativePrompt ?? "", /\bchild\b/);
  });

  it("createVariation, getVariation until complete, derivativeUrl serves each derivative", async () => {
    const created = await client.createVariation({
      name: `ts-client-${Date.now()}`,
      category: "city-scenes",
      families: ["square"],
      generation: { prompt: "a quiet city square at dawn, watercolour", seed: 7, model: MODEL, inferenceSteps: 2 },
    });
    assert.ok(["queued", "generating"].includes(created.status), created.status);
    assert.throws(() => client.derivativeUrl(created, "icon"), /no derivative "icon"/);

    const done: VariationPublic = await poll(
      () => client.getVariation(created.id),
      (v) => ["complete", "partial", "failed"].includes(v.status),
    );
    assert.equal(done.status, "complete", JSON.stringify(done));
    assert.deepEqual(
      (done.derivatives ?? []).map((d) => d.derivativeName).sort(),
      ["icon", "square", "square-sm", "square-xs", "thumbnail"],
    );
    const icon = derivative("icon");
    const url = client.derivativeUrl(done, "icon");
    assert.ok(url.startsWith(`${SERVER}/api/images/${done.name}/icon?v=`), url);
    // Auth is on, so the URL is signed: a plain fetch with no key gets the image.
    const image = await fetch(url);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get("content-type"), "image/webp");
    const bytes = new Uint8Array(await image.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 4)], WEBP);
    const listed = (done.derivatives ?? []).find((d) => d.derivativeName === "icon");
    assert.deepEqual([listed?.width, listed?.height], [icon.width, icon.height]);
    // The unsigned URL by name needs the key.
    assert.equal((await fetch(client.derivativeUrl(done.name, "icon"))).status, 401);
    assert.equal((await client.getVariationByName(done.name)).id, done.id);
  });

  it("generate, then follow the job's SSE events until it succeeds; jobs get, list, cancel", async () => {
    const accepted = await client.generate({ prompt: "a red fox in snow", model: MODEL, steps: 2, width: 64, height: 64, seed: 3 });
    assert.equal(typeof accepted.job_id, "string");
    const events: ServerEvent[] = [];
    for await (const event of client.jobEvents(accepted.job_id)) events.push(event);
    const types = events.map((e) => e.type);
    assert.equal(types[0], "JOB_QUEUED", types.join());
    assert.equal(types.at(-1), "JOB_SUCCEEDED", JSON.stringify(events.at(-1)));
    assert.ok(types.includes("JOB_STARTED"), types.join());
    assert.ok(events.every((e) => e.jobId === accepted.job_id));
    const ids = events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));

    // A finished job's stream replays its history; resuming after an id skips what came before.
    const resumed: string[] = [];
    for await (const event of client.jobEvents(accepted.job_id, { lastEventId: events[0]?.id })) {
      resumed.push(event.type);
    }
    // Live previews are not history: each replaces the last, and the job's end drops it.
    assert.deepEqual(resumed, types.slice(1).filter((type) => type !== "PREVIEW"));

    const job = await client.jobs.wait(accepted.job_id);
    assert.equal(job.status, "succeeded");
    assert.equal(job.id, accepted.job_id);
    const page = await client.jobs.list({ status: "succeeded", limit: 100 });
    assert.ok(page.items.some((item) => item.id === job.id));
    const finished = await rejection(client.jobs.cancel(job.id));
    assert.equal(finished.status, 409);
    const missing = await rejection(client.jobs.get("no-such-job"));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, "not_found");
  });

  it("chat answers an image, its caption and the policy", async () => {
    const answer = await client.chat("1to1", { message: "a lighthouse on a cliff", seed: 5 });
    assert.ok(!isAccepted(answer), "the chat job outlived the endpoint's timeout");
    const chat = answer as ChatImageResponse;
    const png = Buffer.from(chat.image_base64, "base64");
    assert.ok(png.length > 100);
    assert.ok(chat.caption.length > 0);
    assert.ok(chat.prompt_used.includes("lighthouse"), chat.prompt_used);
    assert.equal(chat.policy.endpoint_policy, "unrestricted");
    assert.equal(chat.seed, 5);
  });

  it("a bad request is an ApiError naming the field", async () => {
    const error = await rejection(
      client.createVariation({
        name: "ts-bad-steps",
        generation: { prompt: "a fox", model: MODEL, inferenceSteps: 1000 },
      }),
    );
    assert.equal(error.status, 422);
    assert.equal(error.code, "validation_error");
    assert.equal(error.field, "generation.inferenceSteps");
    assert.match(error.message, /generation\.inferenceSteps/);
  });
});

describe("profile endpoints", { skip: NO_SERVER || NO_SELFIE }, () => {
  // A real portrait (the harness writes it) to a server whose vision model answers an adult.
  const selfie = (): Selfie => ({ data: new Blob([SELFIE ?? new Uint8Array()], { type: "image/jpeg" }), filename: "me.jpg" });

  it("profile.generate sends JSON: a bad style is a 422 naming the field", async () => {
    const error = await rejection(
      client.profile.generate({ features: {}, style: "watercolour" as "anime", seed: 1 }),
    );
    assert.equal(error.status, 422);
    assert.equal(error.field, "style");
  });

  it("profile.analyze uploads a selfie: the face box and the vision model's features come back", async () => {
    const answer = await client.profile.analyze(selfie());
    assert.ok(!isAccepted(answer), "the profile job outlived the endpoint's timeout");
    const { face, features, message, job_id } = answer as ProfileAnalysis;
    assert.equal(face.detected, true, JSON.stringify(face));
    assert.equal(face.faces_found, 1);
    assert.ok(face.box !== null && face.box.width > 0 && face.box.height > 0, JSON.stringify(face.box));
    assert.ok(face.quality_score > 0 && face.quality_score <= 1, String(face.quality_score));
    assert.equal(features?.age_band, "26_35", JSON.stringify(features));
    assert.equal(message ?? null, null);
    assert.equal((await client.jobs.get(job_id)).kind, "profile");
  });

  it("profile.create draws an adult avatar from the selfie; profile.generate redraws it from its features", async () => {
    const answer = await client.profile.create(selfie(), { style: "anime" });
    assert.ok(!isAccepted(answer), "the profile job outlived the endpoint's timeout");
    const created = answer as ProfileCreated;
    assert.deepEqual([...Buffer.from(created.image_base64, "base64").subarray(1, 4)], PNG);
    assert.match(created.prompt_used, /anime style/);
    assert.match(created.prompt_used, /-year-old adult/); // the character guard, always
    assert.equal(created.features.age_band, "26_35");
    assert.equal(created.face.detected, true);

    const again = await client.profile.generate({ features: created.features, style: "anime", seed: created.seed });
    assert.ok(!isAccepted(again), "the profile job outlived the endpoint's timeout");
    const generated = again as ProfileGenerated;
    assert.equal(generated.seed, created.seed);
    // The same features and style through the same template (the guard's phrasing varies).
    assert.match(generated.prompt_used, /anime style/);
    assert.match(generated.prompt_used, /-year-old adult/);
    assert.deepEqual([...Buffer.from(generated.image_base64, "base64").subarray(1, 4)], PNG);
  });

  it("profile.analyze uploads the selfie field: a text file is refused as not an image", async () => {
    const error = await rejection(client.profile.analyze(new Blob(["not an image"], { type: "text/plain" })));
    assert.equal(error.status, 422);
    assert.equal(error.field, "selfie");
    // A multipart field under another name would be refused as missing instead.
    assert.doesNotMatch(error.message, /required|missing/i);
  });
});
