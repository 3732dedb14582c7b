// Images that load lazily. With auth off, a plain <img loading="lazy">. With auth on, the
// API signs the image URLs it hands out (?sig=), and a signed URL needs no key: it goes
// straight into <img src> and links. Only an unsigned URL under /api/ is fetched with the
// key (when it comes near the viewport) and shown from a blob: URL.

import { authHeaders, session } from "./api.js";
import { h } from "./dom.js";

const MAX_CACHED = 300;
const blobUrls = new Map(); // image URL → blob: URL, oldest first
let observer = null;

/** An <img> for `url` that loads lazily; `url` may be null (a placeholder shows instead). */
export function lazyImage(url, { alt = "", className = "", width, height } = {}) {
  const image = h("img", {
    alt,
    class: className,
    loading: "lazy",
    decoding: "async",
    width,
    height,
  });
  setImageSource(image, url);
  return image;
}

export function setImageSource(image, url) {
  if (!url) {
    image.removeAttribute("src");
    return;
  }
  if (!needsKey(url)) {
    image.src = url;
    return;
  }
  image.dataset.src = url;
  observer ??= new IntersectionObserver(onVisible, { rootMargin: "300px" });
  observer.observe(image);
}

/** Whether `url` must be fetched with the key (same origin, under /api/, auth on, unsigned). */
export function needsKey(url) {
  if (!session.authEnabled) return false;
  const parsed = new URL(url, window.location.href);
  if (parsed.searchParams.has("sig")) return false;
  return parsed.origin === window.location.origin && parsed.pathname.startsWith("/api/");
}

function onVisible(entries) {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    observer.unobserve(entry.target);
    load(entry.target);
  }
}

async function load(image) {
  try {
    image.src = await keyedBlobUrl(image.dataset.src);
  } catch {
    image.classList.add("broken");
  }
}

/** A blob: URL for a same-origin image fetched with the key (cached). */
export async function keyedBlobUrl(url) {
  const cached = blobUrls.get(url);
  if (cached) return cached;
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw new Error(`image answered ${response.status}`);
  const objectUrl = URL.createObjectURL(await response.blob());
  blobUrls.set(url, objectUrl);
  if (blobUrls.size > MAX_CACHED) {
    const [oldest, oldestBlob] = blobUrls.entries().next().value;
    blobUrls.delete(oldest);
    URL.revokeObjectURL(oldestBlob);
  }
  return objectUrl;
}

/** A URL a link can open: the URL itself, or a blob: URL when the key is needed. */
export async function openableUrl(url) {
  return needsKey(url) ? keyedBlobUrl(url) : url;
}
