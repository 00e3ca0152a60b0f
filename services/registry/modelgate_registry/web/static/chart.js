// The benchmark as inline SVG, drawn here (no chart library): output throughput, and latency
// percentiles, by concurrency. Each chart is an image with a text alternative, and the same
// numbers follow as a table for screen readers and for copying.
import { h, s, table } from "./dom.js";
import { number } from "./format.js";

const WIDTH = 420;
const HEIGHT = 264;
const PAD = { left: 56, right: 16, top: 16, bottom: 64 };

function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((f) => f * magnitude >= value) * magnitude;
  return step;
}

/** One line chart: x is the concurrency (categories, evenly spaced), one line per series. */
function lineChart({ title, unit, categories, series }) {
  const top = niceMax(Math.max(...series.flatMap((line) => line.values)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (categories.length === 1 ? plotW / 2 : (i * plotW) / (categories.length - 1));
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const summary = series.map((line) => `${line.name}: ${line.values.map((v, i) => `${number(v)} ${unit} at concurrency ${categories[i]}`).join(", ")}`).join("; ");
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(top * f), y2: y(top * f), class: "grid" }),
    s("text", { x: PAD.left - 6, y: y(top * f) + 4, class: "tick", "text-anchor": "end", text: number(top * f, top * f >= 100 ? 0 : 1) }),
  ]);
  const ticks = categories.map((c, i) => s("text", { x: x(i), y: HEIGHT - PAD.bottom + 16, class: "tick", "text-anchor": "middle", text: c }));
  const lines = series.map((line, k) => s("g", { class: `series series-${k}` },
    s("polyline", { points: line.values.map((v, i) => `${x(i)},${y(v)}`).join(" "), fill: "none" }),
    line.values.map((v, i) => s("circle", { cx: x(i), cy: y(v), r: 3.5 },
      s("title", { text: `${line.name} at concurrency ${categories[i]}: ${number(v)} ${unit}` })))));
  const legend = series.map((line, k) => s("g", { class: `series series-${k}` },
    s("rect", { x: PAD.left + k * 96, y: HEIGHT - 16, width: 10, height: 10 }),
    s("text", { x: PAD.left + k * 96 + 14, y: HEIGHT - 7, class: "tick", text: line.name })));
  return h("figure", { class: "chart" },
    s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": `${title}. ${summary}`, focusable: "false" },
      s("title", { text: title }),
      grid, ticks,
      s("text", { x: PAD.left + plotW / 2, y: HEIGHT - PAD.bottom + 34, class: "axis", "text-anchor": "middle", text: "concurrency" }),
      s("text", { x: 12, y: PAD.top + plotH / 2, class: "axis", "text-anchor": "middle", transform: `rotate(-90 12 ${PAD.top + plotH / 2})`, text: unit }),
      lines, legend),
    h("figcaption", { text: title }));
}

/** The benchmark section's body: both charts and the numbers as a table. */
export function benchmarkChart(benchmark) {
  const runs = [...benchmark.runs].sort((a, b) => a.concurrency - b.concurrency);
  const categories = runs.map((run) => String(run.concurrency));
  return h("div", { class: "benchmark" },
    h("div", { class: "charts" },
      lineChart({
        title: "Output throughput by concurrency",
        unit: "tokens/s",
        categories,
        series: [{ name: "tokens/s", values: runs.map((run) => run.output_tokens_per_s) }],
      }),
      lineChart({
        title: "Time to first token by concurrency",
        unit: "ms",
        categories,
        series: ["p50", "p95", "p99"].map((p) => ({ name: `TTFT ${p}`, values: runs.map((run) => run.ttft[`${p}_ms`]) })),
      })),
    table("Benchmark runs", ["concurrency", "requests", "failures", "tokens/s", "TTFT p50 ms", "TTFT p95 ms", "TTFT p99 ms", "ITL p50 ms", "E2E p99 ms"],
      runs.map((run) => [String(run.concurrency), String(run.requests), String(run.failures),
        number(run.output_tokens_per_s), number(run.ttft.p50_ms), number(run.ttft.p95_ms),
        number(run.ttft.p99_ms), number(run.itl.p50_ms), number(run.e2e.p99_ms)]), "numbers"));
}
