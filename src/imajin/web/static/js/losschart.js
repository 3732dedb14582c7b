// A training run's loss over its steps as an inline SVG: a polyline with labelled axes.
// Drawn from the job's progress events as they arrive; no chart library.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 400;
const HEIGHT = 200;
// Room for the axis labels: left (loss values), bottom (steps), and a little on top/right.
const PAD = { left: 56, right: 14, top: 12, bottom: 40 };

function svg(tag, attrs = {}, text = null) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

const formatLoss = (loss) => (loss >= 100 ? loss.toFixed(0) : loss.toPrecision(3));

/**
 * A chart for a run of `total` steps. add(step, loss) plots one point (a repeated step
 * replaces its loss); setTotal(steps) changes the run's length once the run says it;
 * points() returns what is plotted, in step order.
 */
export function lossChart({ total }) {
  const plotted = new Map();
  const chart = svg("svg", {
    class: "loss-chart",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": "Training loss: no steps yet",
  });
  const line = svg("polyline", { class: "loss-line", points: "", fill: "none" });
  const axes = svg("g", { class: "loss-axes" });
  const dots = svg("g", { class: "loss-points" }); // a short run's few points stay visible
  chart.append(axes, line, dots);

  const draw = () => {
    const points = [...plotted.entries()].sort(([a], [b]) => a - b);
    const losses = points.map(([, loss]) => loss);
    let low = losses.length ? Math.min(...losses) : 0;
    let high = losses.length ? Math.max(...losses) : 1;
    if (high - low < 1e-9) {
      // One point, or a flat run: give the line some room above and below.
      const room = Math.abs(high) * 0.1 || 0.1;
      low -= room;
      high += room;
    }
    const lastStep = Math.max(total || 1, ...points.map(([step]) => step));
    const x = (step) => PAD.left + (step / lastStep) * (WIDTH - PAD.left - PAD.right);
    const y = (loss) =>
      HEIGHT - PAD.bottom - ((loss - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
    line.setAttribute(
      "points",
      points.map(([step, loss]) => `${x(step).toFixed(1)},${y(loss).toFixed(1)}`).join(" "),
    );
    axes.replaceChildren(...axisParts({ x, y, low, high, lastStep }));
    dots.replaceChildren(
      ...points.map(([step, loss]) =>
        svg("circle", { cx: x(step).toFixed(1), cy: y(loss).toFixed(1), r: 3.5 }),
      ),
    );
    const latest = points.at(-1);
    chart.setAttribute(
      "aria-label",
      latest
        ? `Training loss over ${points.length} points: ${formatLoss(latest[1])} at step ${latest[0]}`
        : "Training loss: no steps yet",
    );
  };

  draw();
  return {
    element: chart,
    add(step, loss) {
      if (!Number.isFinite(loss)) return;
      plotted.set(step, loss);
      draw();
    },
    setTotal(steps) {
      if (steps === total) return;
      total = steps;
      draw();
    },
    points: () => [...plotted.entries()].sort(([a], [b]) => a - b),
  };
}

function axisParts({ x, y, low, high, lastStep }) {
  const left = PAD.left;
  const bottom = HEIGHT - PAD.bottom;
  const middle = (PAD.top + bottom) / 2;
  const label = (attrs, text) => svg("text", { class: "loss-label", ...attrs }, text);
  return [
    svg("line", { x1: left, y1: PAD.top, x2: left, y2: bottom, class: "loss-axis" }),
    svg("line", { x1: left, y1: bottom, x2: WIDTH - PAD.right, y2: bottom, class: "loss-axis" }),
    label({ x: left - 6, y: y(high) + 4, "text-anchor": "end" }, formatLoss(high)),
    label({ x: left - 6, y: y(low) + 4, "text-anchor": "end" }, formatLoss(low)),
    label({ x: x(0), y: bottom + 16, "text-anchor": "middle" }, "0"),
    label({ x: x(lastStep), y: bottom + 16, "text-anchor": "end" }, String(lastStep)),
    label({ x: (left + WIDTH - PAD.right) / 2, y: HEIGHT - 4, "text-anchor": "middle" }, "Step"),
    label({ x: 14, y: middle, "text-anchor": "middle", transform: `rotate(-90 14 ${middle})` }, "Loss"),
  ];
}
