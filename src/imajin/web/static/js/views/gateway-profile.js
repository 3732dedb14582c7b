// The selfie half of the Gateway screen (SPEC §6.2): a selfie → the photo with the face
// box the server found, its quality and the number of faces, the features the vision
// model read → the avatar and the prompt used; "generate again" draws a new avatar from
// the same features with a new seed. The selfie goes to the server only; nothing is kept
// in the page beyond the photo shown.

import { api, isAbort } from "../api.js";
import { h, humanize, placeholder, setChildren, shortId } from "../dom.js";
import { clearFieldErrors, controlFor, field, showFieldErrors } from "../forms.js";
import { showError } from "../notices.js";
import { followJob } from "./gateway-jobs.js";

const STYLES = [
  ["photorealistic", "Photorealistic"],
  ["anime", "Anime"],
];
// Errors the page-wide notice handles better (a key button, a countdown, "offline").
const NOTICE_STATUSES = [0, 401, 403, 429];

/** The profile part: `{element, close}`; `close` stops requests and frees the photo. */
export function renderProfile() {
  const scope = new AbortController();
  let stopFollowing = () => {};
  let photoUrl = null;
  let features = null; // the last features read, for "generate again"

  const selfie = h("input", {
    id: "gw-selfie",
    name: "selfie",
    type: "file",
    accept: "image/jpeg,image/png,image/webp",
    required: true,
  });
  const style = h(
    "select",
    { id: "gw-style", name: "style" },
    STYLES.map(([value, label]) => h("option", { value }, label)),
  );
  const analyze = h("button", { type: "submit", class: "btn", value: "analyze" }, "Analyze");
  const create = h(
    "button",
    { type: "submit", class: "btn btn-primary", value: "create" },
    "Create avatar",
  );
  const form = h(
    "form",
    { class: "panel profile-form", novalidate: true, "aria-labelledby": "profile-title" },
    h("h2", { id: "profile-title" }, "Profile avatar"),
    field({
      label: "Selfie",
      control: selfie,
      hint: "JPEG, PNG or WebP. The face is found on the server; the photo is not kept.",
    }),
    field({ label: "Style", control: style }),
    h("div", { class: "actions" }, analyze, create),
  );

  const photo = h("img", { class: "selfie-photo", alt: "Your selfie" });
  const faceBox = h("div", { class: "face-box", hidden: true, "aria-hidden": "true" });
  const faceFacts = h("dl", { class: "params face-facts" });
  const featuresPart = h("div", { class: "profile-features" });
  const avatarPart = h("div", { class: "profile-avatar", "aria-live": "polite" });
  const problem = h("div", { class: "profile-problem" });
  const result = h(
    "section",
    { class: "panel profile-result", "aria-label": "Profile", hidden: true },
    problem,
    h(
      "div",
      { class: "profile-grid" },
      h(
        "figure",
        { class: "selfie-figure" },
        h("div", { class: "selfie-frame" }, photo, faceBox),
        h("figcaption", {}, faceFacts),
      ),
      featuresPart,
    ),
    avatarPart,
  );

  const busy = (on) => {
    for (const button of form.querySelectorAll("button")) button.disabled = on;
    for (const button of avatarPart.querySelectorAll("button")) button.disabled = on;
  };

  const fail = (error, part) => {
    if (isAbort(error)) return;
    if (NOTICE_STATUSES.includes(error.status)) {
      showError(error, { context: "Profile" });
      return;
    }
    // A bad or too large selfie (413/422 `selfie`) is said next to the file input; a
    // refusal or a missing vision model (503 naming vision.features_model) as the server
    // worded it, since its message says what to change.
    if (controlFor(form, error.field) && showFieldErrors(form, error)) return;
    setChildren(part, h("p", { class: "inline-error", role: "alert" }, error.message));
  };

  selfie.addEventListener("change", () => {
    clearFieldErrors(form);
    stopFollowing();
    features = null;
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    const file = selfie.files?.[0];
    photoUrl = file ? URL.createObjectURL(file) : null;
    result.hidden = !file;
    faceBox.hidden = true;
    setChildren(problem);
    setChildren(faceFacts);
    setChildren(featuresPart);
    setChildren(avatarPart);
    if (file) photo.src = photoUrl;
    else photo.removeAttribute("src");
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    stopFollowing();
    const file = selfie.files?.[0];
    if (!file) {
      showFieldErrors(form, { field: "selfie", message: "Choose a selfie first." });
      return;
    }
    const action = event.submitter?.value === "analyze" ? "analyze" : "create";
    const body = new FormData();
    body.append("selfie", file);
    if (action === "create") body.append("style", style.value);
    setChildren(problem);
    setChildren(featuresPart, placeholder("Reading the selfie…", "hint"));
    const drawing = action === "create" ? placeholder("Drawing the avatar…", "hint") : null;
    setChildren(avatarPart, drawing);
    busy(true);
    try {
      const answer = await api(`/v1/profile/${action}`, {
        method: "POST",
        body,
        signal: scope.signal,
      });
      if (answer.face) show(answer);
      else {
        // 202: the job runs on; its progress is said in `problem` until it ends.
        setChildren(featuresPart);
        setChildren(avatarPart);
        stopFollowing = followJob(answer.job_id, problem, show);
      }
    } catch (error) {
      setChildren(featuresPart);
      setChildren(avatarPart);
      fail(error, problem);
    } finally {
      busy(false);
    }
  });

  /** An /analyze or /create answer (or its job's result). */
  function show(answer) {
    setChildren(problem);
    drawFace(answer.face);
    features = answer.features ?? null;
    setChildren(
      featuresPart,
      features
        ? featuresTable(features)
        : h("p", { class: "inline-error", role: "alert" }, answer.message ?? "No features."),
    );
    setChildren(avatarPart, answer.image_base64 ? avatarView(answer) : null);
  }

  function drawFace(face) {
    setChildren(
      faceFacts,
      param("Face", face.detected ? "found" : "none found", "face"),
      param("Faces found", String(face.faces_found), "faces-found"),
      param("Quality", face.quality_score.toFixed(2), "quality"),
    );
    const box = face.box;
    faceBox.hidden = !box;
    if (!box) return;
    // The box is in pixels of the upright selfie: the server applies the EXIF rotation.
    // The photo is shown with `image-orientation: from-image` (screens.css), so the
    // browser shows it upright too and naturalWidth/Height are the upright sizes. The
    // box is placed in percentages of those, so it stays on the face at any width.
    const place = () => {
      const { naturalWidth: width, naturalHeight: height } = photo;
      if (!width || !height) return;
      const percent = (value, of) => `${(100 * value) / of}%`;
      faceBox.style.left = percent(box.x, width);
      faceBox.style.top = percent(box.y, height);
      faceBox.style.width = percent(box.width, width);
      faceBox.style.height = percent(box.height, height);
    };
    if (photo.complete && photo.naturalWidth) place();
    else photo.addEventListener("load", place, { once: true });
  }

  function avatarView(answer) {
    const again = h(
      "button",
      { type: "button", class: "btn", onclick: () => generateAgain() },
      "Generate again",
    );
    return [
      h(
        "figure",
        { class: "gateway-figure avatar-figure" },
        h("img", {
          src: `data:image/png;base64,${answer.image_base64}`,
          alt: `Avatar: ${answer.prompt_used}`,
        }),
      ),
      h(
        "dl",
        { class: "params" },
        param("Prompt used", answer.prompt_used, "prompt"),
        param("Seed", String(answer.seed), "seed"),
        param("Job", h("a", { href: "#/queue" }, shortId(answer.job_id)), "job"),
      ),
      features ? h("div", { class: "actions" }, again) : null,
      h("div", { class: "avatar-problem" }),
    ];
  }

  /** A new avatar from the same features with a new seed (/v1/profile/generate). */
  async function generateAgain() {
    stopFollowing();
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    const body = { features, style: style.value, seed };
    const where = avatarPart.querySelector(".avatar-problem");
    setChildren(where, placeholder("Drawing another avatar…", "hint"));
    busy(true);
    try {
      const answer = await api("/v1/profile/generate", {
        method: "POST",
        body,
        signal: scope.signal,
      });
      const showAvatar = (done) => setChildren(avatarPart, avatarView(done));
      if (answer.image_base64) showAvatar(answer);
      else stopFollowing = followJob(answer.job_id, where, showAvatar);
    } catch (error) {
      setChildren(where);
      fail(error, where);
    } finally {
      busy(false);
    }
  }

  return {
    element: h("div", { class: "profile" }, form, result),
    close: () => {
      scope.abort();
      stopFollowing();
      if (photoUrl) URL.revokeObjectURL(photoUrl);
    },
  };
}

function featuresTable(features) {
  return h(
    "table",
    { class: "features-table" },
    h("caption", {}, "Features the vision model read"),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "Feature"), h("th", { scope: "col" }, "Value")),
    ),
    h(
      "tbody",
      {},
      Object.entries(features).map(([name, value]) =>
        h(
          "tr",
          { dataset: { feature: name } },
          h("th", { scope: "row" }, humanize(name)),
          h("td", {}, featureText(value)),
        ),
      ),
    ),
  );
}

/** A feature value as text: lists joined, booleans as yes/no, nothing as "none". */
export function featureText(value) {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (value === null || value === undefined || value === "") return "none";
  return String(value);
}

function param(label, value, key) {
  return h(
    "div",
    { class: "param", dataset: { param: key } },
    h("dt", {}, label),
    h("dd", {}, value),
  );
}
