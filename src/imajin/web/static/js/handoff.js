// "Use this prompt": a prompt written on one screen (the assistant) handed to the form
// of another, which takes it once. Generate reads its draft through params.js, as the
// image view's "Use these settings" does; Variations reads its own here.

import { setDraft } from "./params.js";

let variationDraft = null;

/**
 * Open Generate or Variations (`screen`) with a prompt filled in.
 * `prompt` is {prompt, negativePrompt, model, width, height, seed}; absent values stay empty.
 */
export function usePrompt(screen, prompt) {
  const values = {
    prompt: prompt.prompt ?? "",
    negative_prompt: prompt.negativePrompt ?? "",
    model: prompt.model ?? "",
    width: prompt.width ?? "",
    height: prompt.height ?? "",
    seed: prompt.seed ?? "",
  };
  if (screen === "generate") setDraft(values);
  else variationDraft = values;
  window.location.hash = screen === "generate" ? "#/generate" : "#/variations";
}

/** The values handed to the Variations form, once (then null). */
export function takeVariationDraft() {
  const taken = variationDraft;
  variationDraft = null;
  return taken;
}
