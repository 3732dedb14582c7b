/**
 * A small fetch-based client for the imajin HTTP API. Request and response
 * types come from the server's OpenAPI document (schema.d.ts, generated);
 * every answer of 400 or above is thrown as an {@link ApiError}.
 */

import { ApiError } from "./errors.js";
import type {
  ProfileAnalysis,
  ProfileCreated,
  ProfileGenerated,
  ProfileGenerateRequest,
  ProfileStyle,
  Selfie,
} from "./profile.js";
import type { components, paths } from "./schema.js";
import { type ServerEvent, serverEvents, TERMINAL_JOB_EVENTS } from "./sse.js";

type Schemas = components["schemas"];
export type AnalyzeContextRequest = Schemas["AnalyzeContextRequest"];
export type GenerationConfig = Schemas["GenerationConfig"];
export type GeneratePromptsRequest = Schemas["GeneratePromptsRequest"];
export type GeneratePromptsResponse = Schemas["GeneratePromptsResponse"];
export type PipelineList = Schemas["PipelineList"];
export type VariationCreate = Schemas["VariationCreate"];
export type VariationPublic = Schemas["VariationPublic"];
export type VariationPage = Schemas["VariationPage"];
export type DerivativePublic = Schemas["DerivativePublic"];
export type GenerateRequest = Schemas["GenerateRequest"];
export type GenerateAccepted = Schemas["GenerateAccepted"];
export type BatchCreate = Schemas["BatchCreate"];
export type BatchCreated = Schemas["BatchCreated"];
export type JobPublic = Schemas["JobPublic"];
export type JobStatus = Schemas["JobStatus"];
export type JobPage = Schemas["Page_JobPublic_"];
export type ChatImageRequest = Schemas["ChatImageRequest"];
export type ChatImageResponse = Schemas["ChatImageResponse"];
export type ExpandRequest = Schemas["ExpandRequest"];
export type ExpandResponse = Schemas["ExpandResponse"];
export type CaptionRequest = Schemas["CaptionRequest"];
export type CaptionResponse = Schemas["CaptionResponse"];
export type ImagegenRequest = Schemas["ImagegenRequest"];
export type ImagegenResponse = Schemas["ImagegenResponse"];
/** 202: the job goes on past the endpoint's timeout; poll or stream it. */
export type Accepted = Schemas["Accepted"];

/** The gateway's chat endpoints (SPEC §6.1). */
export type ChatKind = "1to1" | "shorts" | "scenes";
const CHAT_PATHS = {
  "1to1": "/v1/chat/1to1/imagegen",
  shorts: "/v1/chat/shorts/generate",
  scenes: "/v1/chat/scenes/generate",
} as const satisfies Record<ChatKind, keyof paths>;

type ApiPath = keyof paths;

export interface ClientOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8000` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` when the server has API keys on. */
  apiKey?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface EventStreamOptions extends CallOptions {
  /** Resume after this event id (the `Last-Event-ID` of SSE). */
  lastEventId?: number;
}

export interface EventsQuery extends EventStreamOptions {
  /** Only these event types. */
  types?: readonly string[];
  /** Only events about this subject (a variation id, a batch id...). */
  subject?: string;
}

export interface JobsQuery extends CallOptions {
  status?: JobStatus;
  kind?: string;
  groupId?: string;
  limit?: number;
  offset?: number;
}

type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

interface Request extends CallOptions {
  params?: Record<string, string>;
  query?: Query;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

/** True when a gateway answer is the 202 of a job that outlived the endpoint's timeout. */
export function isAccepted<T extends object>(answer: T | Accepted): answer is Accepted {
  const keys = Object.keys(answer);
  return keys.length === 1 && keys[0] === "job_id";
}

/** The client. One instance per server; it holds no connection state. */
export class ImajinClient {
  readonly baseUrl: string;
  readonly jobs: JobsApi;
  readonly profile: ProfileApi;
  private readonly apiKey: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.headers = options.headers ?? {};
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.jobs = new JobsApi(this);
    this.profile = new ProfileApi(this);
  }

  // ---- prompt assistant (SPEC §4.1)

  /** `POST /analyze-context`: a context → the GenerationConfig and its reasoning chain. */
  analyzeContext(body: AnalyzeContextRequest, options?: CallOptions): Promise<GenerationConfig> {
    return this.json("POST", "/analyze-context", { ...options, json: body });
  }

  /** `POST /generate-prompts`: prompts from a pipeline's inputs. */
  generatePrompts(
    body: GeneratePromptsRequest,
    options?: CallOptions,
  ): Promise<GeneratePromptsResponse> {
    return this.json("POST", "/generate-prompts", { ...options, json: body });
  }

  /** `GET /pipelines`. */
  listPipelines(options?: CallOptions): Promise<PipelineList> {
    return this.json("GET", "/pipelines", { ...options });
  }

  // ---- variations (SPEC §3.2)

  /** `POST /api/images/variations` → 202, the variation queued. */
  createVariation(body: VariationCreate, options?: CallOptions): Promise<VariationPublic> {
    return this.json("POST", "/api/images/variations", { ...options, json: body });
  }

  /** `GET /api/images/variations/{id}`. */
  getVariation(id: string, options?: CallOptions): Promise<VariationPublic> {
    return this.json("GET", "/api/images/variations/{variation_id}", {
      ...options,
      params: { variation_id: id },
    });
  }

  /** `GET /api/images/variations/name/{name}`. */
  getVariationByName(name: string, options?: CallOptions): Promise<VariationPublic> {
    return this.json("GET", "/api/images/variations/name/{name}", {
      ...options,
      params: { name },
    });
  }

  /** `GET /api/images/variations`, newest first. */
  listVariations(
    query: { category?: string; limit?: number; offset?: number } & CallOptions = {},
  ): Promise<VariationPage> {
    const { signal, ...rest } = query;
    return this.json("GET", "/api/images/variations", { signal, query: rest });
  }

  /** `POST /api/images/variations/{id}/regenerate`: same params, or a new seed. */
  regenerateVariation(
    id: string,
    body: { newSeed?: boolean } = {},
    options?: CallOptions,
  ): Promise<VariationPublic> {
    return this.json("POST", "/api/images/variations/{variation_id}/regenerate", {
      ...options,
      params: { variation_id: id },
      json: body,
    });
  }

  /** `DELETE /api/images/variations/{id}`: its files and rows. */
  async deleteVariation(id: string, options?: CallOptions): Promise<void> {
    await this.send("DELETE", "/api/images/variations/{variation_id}", {
      ...options,
      params: { variation_id: id },
    });
  }

  /**
   * The absolute URL of a derivative. Given a variation, it is the derivative's
   * `publicUrl` (versioned, and signed when the server has API keys on); given a
   * variation name, the unversioned, unsigned URL.
   *
   * @throws RangeError when the variation has no derivative of that name (yet).
   */
  derivativeUrl(variation: VariationPublic | string, derivativeName: string): string {
    if (typeof variation === "string") {
      const path = `/api/images/${encodeURIComponent(variation)}/${encodeURIComponent(derivativeName)}`;
      return this.url(path);
    }
    const found = (variation.derivatives ?? []).find((d) => d.derivativeName === derivativeName);
    if (found === undefined) {
      const known = (variation.derivatives ?? []).map((d) => d.derivativeName);
      throw new RangeError(
        `Variation ${JSON.stringify(variation.name)} has no derivative ` +
          `${JSON.stringify(derivativeName)} (status ${variation.status}); ` +
          `it has: ${known.join(", ") || "none yet"}.`,
      );
    }
    return new URL(found.publicUrl, `${this.baseUrl}/`).toString();
  }

  // ---- studio

  /** `POST /api/generate` → 202 with the job id; follow it with {@link jobEvents}. */
  generate(body: GenerateRequest, options?: CallOptions): Promise<GenerateAccepted> {
    return this.json("POST", "/api/generate", { ...options, json: body });
  }

  /** `POST /api/generate/batch`: one job per row of a prompt set. */
  generateBatch(body: BatchCreate, options?: CallOptions): Promise<BatchCreated> {
    return this.json("POST", "/api/generate/batch", { ...options, json: body });
  }

  // ---- gateway (SPEC §6)

  /**
   * A chat message → an image and its caption. Past the endpoint's timeout the
   * answer is a 202 `{job_id}` instead (check with {@link isAccepted}).
   */
  chat(
    kind: ChatKind,
    body: ChatImageRequest,
    options?: CallOptions,
  ): Promise<ChatImageResponse | Accepted> {
    return this.json("POST", CHAT_PATHS[kind], { ...options, json: body });
  }

  /** `POST /v1/chat/{kind}/expand`: only the prompt the chat flow would render. */
  chatExpand(kind: ChatKind, body: ExpandRequest, options?: CallOptions): Promise<ExpandResponse> {
    return this.json("POST", "/v1/chat/{kind}/expand", {
      ...options,
      params: { kind },
      json: body,
    });
  }

  /** `POST /v1/chat/1to1/caption`. */
  chatCaption(body: CaptionRequest, options?: CallOptions): Promise<CaptionResponse> {
    return this.json("POST", "/v1/chat/1to1/caption", { ...options, json: body });
  }

  /** `POST /v1/imagegen`: a prompt → an image (policy `sfw` by default). */
  imagegen(body: ImagegenRequest, options?: CallOptions): Promise<ImagegenResponse | Accepted> {
    return this.json("POST", "/v1/imagegen", { ...options, json: body });
  }

  // ---- events

  /**
   * A job's events as they happen (`GET /api/jobs/{id}/events`), ending after its
   * terminal event (`JOB_SUCCEEDED`, `JOB_FAILED`, `JOB_CANCELLED`). A finished job
   * replays its history. A dropped connection is resumed after the last event seen.
   */
  async *jobEvents(jobId: string, options: EventStreamOptions = {}): AsyncGenerator<ServerEvent> {
    let lastId = options.lastEventId;
    let failures = 0;
    for (;;) {
      let ended = false;
      try {
        for await (const event of this.stream("/api/jobs/{job_id}/events", {
          signal: options.signal,
          params: { job_id: jobId },
          lastEventId: lastId,
        })) {
          lastId = event.id;
          failures = 0;
          yield event;
          if (TERMINAL_JOB_EVENTS.has(event.type)) return;
        }
        ended = true;
      } catch (error) {
        // An answer (404, 401) is final; a network drop is retried a few times.
        if (error instanceof ApiError || options.signal?.aborted || ++failures > 3) throw error;
      }
      if (ended && ++failures > 3) {
        throw new Error(`The event stream of job ${jobId} kept ending before the job finished.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * failures));
    }
  }

  /** Every domain event from now on (`GET /api/events`), or after `lastEventId`. */
  events(query: EventsQuery = {}): AsyncGenerator<ServerEvent> {
    return this.stream("/api/events", {
      signal: query.signal,
      query: { type: query.types, subject: query.subject },
      lastEventId: query.lastEventId,
    });
  }

  // ---- plumbing shared by the sub-APIs

  /** A request whose answer is JSON (or nothing, for 204). */
  async json<T>(method: string, path: ApiPath, request: Request): Promise<T> {
    const response = await this.send(method, path, request);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** A request; throws {@link ApiError} for an answer of 400 or above. */
  async send(method: string, path: ApiPath, request: Request): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.headers };
    if (this.apiKey !== undefined) headers.Authorization = `Bearer ${this.apiKey}`;
    let body: BodyInit | undefined;
    if (request.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(request.json);
    } else if (request.form !== undefined) {
      body = request.form; // fetch sets the multipart boundary
    }
    const url = this.url(fill(path, request.params ?? {}), request.query);
    const response = await this.fetchImpl(url, {
      method,
      headers: { ...headers, ...request.headers },
      body,
      signal: request.signal,
    });
    if (response.status >= 400) throw await ApiError.fromResponse(response);
    return response;
  }

  private async *stream(
    path: ApiPath,
    request: Request & { lastEventId?: number | undefined },
  ): AsyncGenerator<ServerEvent> {
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (request.lastEventId !== undefined) headers["Last-Event-ID"] = String(request.lastEventId);
    const response = await this.send("GET", path, { ...request, headers });
    if (response.body === null) return;
    yield* serverEvents(response.body);
  }

  private url(path: string, query: Query = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
    }
    const text = search.toString();
    return `${this.baseUrl}${path}${text ? `?${text}` : ""}`;
  }
}

function fill(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new RangeError(`Path parameter ${name} of ${template} is missing.`);
    return encodeURIComponent(value);
  });
}

/** `client.jobs`: the queue and recent history. */
export class JobsApi {
  constructor(private readonly client: ImajinClient) {}

  /** `GET /api/jobs`: the queue and recent history, newest first. */
  list(query: JobsQuery = {}): Promise<JobPage> {
    const { signal, ...rest } = query;
    return this.client.json("GET", "/api/jobs", { signal, query: rest });
  }

  /** `GET /api/jobs/{id}`. */
  get(id: string, options?: CallOptions): Promise<JobPublic> {
    return this.client.json("GET", "/api/jobs/{job_id}", { ...options, params: { job_id: id } });
  }

  /** `DELETE /api/jobs/{id}`: a queued job at once, a running one between steps (409 if done). */
  cancel(id: string, options?: CallOptions): Promise<JobPublic> {
    return this.client.json("DELETE", "/api/jobs/{job_id}", { ...options, params: { job_id: id } });
  }

  /** Follow the job's events until it finishes, then answer the job as stored. */
  async wait(id: string, options: CallOptions = {}): Promise<JobPublic> {
    for await (const _event of this.client.jobEvents(id, options)) {
      // The stream ends after the terminal event.
    }
    return this.get(id, options);
  }
}

/** `client.profile`: avatars from a selfie (SPEC §6.2). */
export class ProfileApi {
  constructor(private readonly client: ImajinClient) {}

  /**
   * `POST /v1/profile/analyze` (multipart `selfie`) → the features and the face found.
   * Like every profile call, past the endpoint's timeout the answer is a 202 `{job_id}`.
   */
  analyze(selfie: Selfie, options?: CallOptions): Promise<ProfileAnalysis | Accepted> {
    return this.client.json("POST", "/v1/profile/analyze", { ...options, form: selfieForm(selfie) });
  }

  /** `POST /v1/profile/create` (multipart `selfie`, optional `style`) → the avatar. */
  create(
    selfie: Selfie,
    fields: { style?: ProfileStyle } = {},
    options?: CallOptions,
  ): Promise<ProfileCreated | Accepted> {
    const form = selfieForm(selfie);
    if (fields.style !== undefined) form.append("style", fields.style);
    return this.client.json("POST", "/v1/profile/create", { ...options, form });
  }

  /** `POST /v1/profile/generate` (JSON) → an avatar from features already extracted. */
  generate(
    body: ProfileGenerateRequest,
    options?: CallOptions,
  ): Promise<ProfileGenerated | Accepted> {
    return this.client.json("POST", "/v1/profile/generate", { ...options, json: body });
  }

  /** `DELETE /v1/profile/selfies/{id}`: a kept selfie (servers that keep them). */
  async deleteSelfie(selfieId: string, options?: CallOptions): Promise<void> {
    await this.client.send("DELETE", "/v1/profile/selfies/{selfie_id}", {
      ...options,
      params: { selfie_id: selfieId },
    });
  }
}

function selfieForm(selfie: Selfie): FormData {
  const form = new FormData();
  if (selfie instanceof Blob) {
    form.append("selfie", selfie, selfie instanceof File ? selfie.name : "selfie");
  } else {
    form.append("selfie", selfie.data, selfie.filename);
  }
  return form;
}
