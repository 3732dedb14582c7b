/** Server-sent events over `fetch` (unlike `EventSource`, it can send an API key header). */

/** One stored event, as the server sends it in an SSE `data:` line. */
export interface ServerEvent {
  /** Increases monotonically: resume after it with `Last-Event-ID`. */
  id: number;
  /** e.g. `JOB_QUEUED`, `JOB_PROGRESS`, `JOB_SUCCEEDED`, `IMAGE_VARIATION_COMPLETED`. */
  type: string;
  jobId: string | null;
  subject: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

/** The job event types after which a job's stream ends. */
export const TERMINAL_JOB_EVENTS: ReadonlySet<string> = new Set([
  "JOB_SUCCEEDED",
  "JOB_FAILED",
  "JOB_CANCELLED",
]);

interface RawEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * The events of an SSE body, per the WHATWG event-stream format: `data` lines
 * joined by newlines, comments (the server's keep-alives) skipped.
 */
export async function* parseEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<RawEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let current: RawEvent = { id: null, event: "message", data: "" };
  let hasData = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? ""; // the last piece may be half a line
      for (const line of lines) {
        if (line === "") {
          if (hasData) yield { ...current, data: current.data.slice(0, -1) };
          current = { id: current.id, event: "message", data: "" };
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") {
          current.data += `${value}\n`;
          hasData = true;
        } else if (field === "event") {
          current.event = value;
        } else if (field === "id") {
          current.id = value;
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The server's events in an SSE body, each `data:` parsed as a {@link ServerEvent}. */
export async function* serverEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerEvent> {
  for await (const raw of parseEventStream(body)) {
    yield JSON.parse(raw.data) as ServerEvent;
  }
}
