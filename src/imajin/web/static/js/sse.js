// Server-sent events over fetch(). EventSource cannot send headers, so it could not
// carry the API key; this reader can. It follows the HTML event-stream format
// (data/event/id/retry fields, comments, CR/LF/CRLF line ends) and reconnects with
// Last-Event-ID, so a dropped connection misses no event.

/** Incremental parser: push() text chunks, get one callback per complete event. */
export class SseParser {
  #buffer = "";
  #data = [];
  #type = "";
  #lastEventId = "";
  #afterCR = false;

  constructor({ onEvent, onRetry = () => {} }) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
  }

  push(chunk) {
    let text = chunk;
    // A chunk that ended in CR may be followed by the LF of the same CRLF.
    if (this.#afterCR && text.startsWith("\n")) text = text.slice(1);
    this.#afterCR = false;
    text = this.#buffer + text;
    let start = 0;
    for (let i = 0; i < text.length; i += 1) {
      const char = text[i];
      if (char !== "\n" && char !== "\r") continue;
      this.#line(text.slice(start, i));
      if (char === "\r") {
        if (i + 1 === text.length) this.#afterCR = true;
        else if (text[i + 1] === "\n") i += 1;
      }
      start = i + 1;
    }
    this.#buffer = text.slice(start);
  }

  #line(line) {
    if (line === "") {
      this.#dispatch();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the server's keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#type = value;
    else if (field === "id" && !value.includes("\0")) this.#lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }

  #dispatch() {
    const type = this.#type || "message";
    this.#type = "";
    if (this.#data.length === 0) return;
    const data = this.#data.join("\n");
    this.#data = [];
    this.onEvent({ type, data, lastEventId: this.#lastEventId });
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * A reconnecting event stream.
 *   onEvent({type, data, lastEventId})
 *   onState({state: "connecting" | "open" | "retrying" | "refused", delayMs?, status?})
 * A 401/403/404 answer is "refused": no retry until restart() (e.g. after a new key).
 */
export class EventStreamClient {
  #controller = null;
  #lastEventId = "";
  #failures = 0;

  constructor(
    url,
    { headers = () => ({}), onEvent, onState = () => {}, retryMs = 1000, maxRetryMs = 30000 },
  ) {
    this.url = url;
    this.headers = headers;
    this.onEvent = onEvent;
    this.onState = onState;
    this.retryMs = retryMs;
    this.maxRetryMs = maxRetryMs;
  }

  start() {
    if (this.#controller) return;
    this.#controller = new AbortController();
    this.#run(this.#controller.signal);
  }

  stop() {
    this.#controller?.abort();
    this.#controller = null;
  }

  restart() {
    this.stop();
    this.#failures = 0;
    this.start();
  }

  async #run(signal) {
    while (!signal.aborted) {
      this.onState({ state: "connecting" });
      try {
        await this.#connect(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error.refused) {
          this.onState({ state: "refused", status: error.status });
          this.#controller = null;
          return;
        }
        this.#failures += 1;
      }
      if (signal.aborted) return;
      // Back off on failures; a stream the server closed cleanly reconnects at the base delay.
      const delayMs = Math.min(
        this.retryMs * 2 ** Math.max(0, this.#failures - 1),
        this.maxRetryMs,
      );
      this.onState({ state: "retrying", delayMs });
      await sleep(delayMs, signal);
    }
  }

  async #connect(signal) {
    const headers = { Accept: "text/event-stream", ...this.headers() };
    if (this.#lastEventId) headers["Last-Event-ID"] = this.#lastEventId;
    const response = await fetch(this.url, { headers, signal, cache: "no-store" });
    if (!response.ok) {
      const error = new Error(`event stream answered ${response.status}`);
      error.status = response.status;
      error.refused = [401, 403, 404].includes(response.status);
      throw error;
    }
    this.#failures = 0;
    this.onState({ state: "open" });
    const parser = new SseParser({
      onEvent: (event) => {
        this.#lastEventId = event.lastEventId;
        this.onEvent(event);
      },
      onRetry: (ms) => {
        this.retryMs = ms;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.push(value);
    }
  }
}
