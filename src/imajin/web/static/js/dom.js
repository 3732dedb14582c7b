// Small DOM helpers. Data always goes in as text nodes or attributes, never as HTML,
// so nothing a server or a user wrote can inject markup.

/**
 * Create an element: h("a", {href: "#/", class: "card"}, "text", childNode).
 * `on<event>` attributes take listeners; `true` sets a boolean attribute;
 * null, undefined and false leave an attribute out.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "value" || name === "checked") element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  appendChildren(element, children);
  return element;
}

/** Append strings, numbers and nodes (nested arrays allowed); skip null/false. */
export function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function setChildren(element, ...children) {
  element.replaceChildren();
  appendChildren(element, children);
}

/**
 * Keep `list` in step with `items` without replacing elements that already exist,
 * so a card that has keyboard focus keeps it while live updates arrive.
 */
export function reconcile(list, items, { key, create, update }) {
  const existing = new Map([...list.children].map((child) => [child.dataset.key, child]));
  let previous = null;
  for (const item of items) {
    const id = String(key(item));
    let child = existing.get(id);
    if (child) {
      update(child, item);
      existing.delete(id);
    } else {
      child = create(item);
      child.dataset.key = id;
    }
    const expectedPlace = previous ? previous.nextElementSibling : list.firstElementChild;
    if (child !== expectedPlace) list.insertBefore(child, expectedPlace);
    previous = child;
  }
  for (const stale of existing.values()) stale.remove();
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A date from the API (ISO 8601) as local text; "" when absent. */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateFormat.format(date);
}

/** `<time>` element for an ISO date. */
export function timeElement(iso) {
  return h("time", { datetime: iso ?? "" }, formatDate(iso));
}

/** Call `fn` once input has paused for `ms` milliseconds. */
export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** The first characters of an id, enough to tell jobs apart on screen. */
export function shortId(id) {
  return String(id ?? "").slice(0, 8);
}

/** "negative_prompt" / "negativePrompt" → "Negative prompt". */
export function humanize(key) {
  const words = String(key)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A status word as a badge; the text itself carries the meaning, colour only repeats it. */
export function statusBadge(status) {
  return h("span", { class: "badge", "data-status": status ?? "unknown" }, status ?? "unknown");
}

/** A labelled progress bar ("step 3 of 20"). */
export function progressBar({ value, max, label }) {
  const bar = h("progress", { max: Math.max(1, max || 1), "aria-label": label });
  bar.value = Math.min(value || 0, bar.max);
  return bar;
}

/** An empty-state paragraph. */
export function placeholder(text, className = "empty") {
  return h("p", { class: className }, text);
}
