// Keyboard movement between the cards of a grid. One card is in the Tab order (a
// "roving tabindex"); arrow keys, Home and End move focus; Enter opens the focused
// card because cards are links or buttons.

const KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"]);

/** Cards in `list` are its elements matching `selector` (default [data-card]). */
export function enableGridNavigation(list, selector = "[data-card]") {
  list.addEventListener("keydown", (event) => {
    if (!KEYS.has(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
    const cards = [...list.querySelectorAll(selector)];
    const index = cards.indexOf(document.activeElement);
    if (index === -1) return;
    const columns = columnCount(cards);
    const target = {
      ArrowLeft: index - 1,
      ArrowRight: index + 1,
      ArrowUp: index - columns,
      ArrowDown: index + columns,
      Home: 0,
      End: cards.length - 1,
    }[event.key];
    event.preventDefault();
    if (target < 0 || target >= cards.length) return;
    focusCard(cards, target);
  });
  // Whatever way a card got focus (click, Tab, script), it becomes the one Tab returns to.
  list.addEventListener("focusin", (event) => {
    const cards = [...list.querySelectorAll(selector)];
    if (cards.includes(event.target)) setTabStop(cards, event.target);
  });
}

/** After cards were added or removed: keep exactly one card tabbable. */
export function refreshGridTabStops(list, selector = "[data-card]") {
  const cards = [...list.querySelectorAll(selector)];
  if (cards.length === 0) return;
  const current = cards.find((card) => card.dataset.tabStop === "1") ?? cards[0];
  setTabStop(cards, current);
}

function setTabStop(cards, current) {
  for (const card of cards) {
    card.tabIndex = card === current ? 0 : -1;
    card.dataset.tabStop = card === current ? "1" : "0";
  }
}

function focusCard(cards, index) {
  setTabStop(cards, cards[index]);
  cards[index].focus();
  cards[index].scrollIntoView({ block: "nearest" });
}

/** Cards in the first row, measured from the layout (the grid is responsive). */
function columnCount(cards) {
  const top = cards[0].getBoundingClientRect().top;
  let columns = 0;
  for (const card of cards) {
    if (Math.abs(card.getBoundingClientRect().top - top) > 4) break;
    columns += 1;
  }
  return Math.max(1, columns);
}
