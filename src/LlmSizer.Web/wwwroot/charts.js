// LlmSizer's own SVG charts: a stacked bar against a capacity and a line chart with a capacity line.
// The charts draw numbers they are given; they compute no memory (every figure comes from the API).

const SVG = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes (no inline style: the page's CSP forbids it). */
function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The drawing width in user units: the element's own width, so 12-unit labels stay 12 px on a phone. */
function drawWidth(svg) {
  const w = Math.round(svg.getBoundingClientRect().width);
  return Math.min(900, Math.max(300, w || 640));
}

/** Bytes as GiB with two decimals ("14.96 GiB"). */
export function gib(bytes) {
  return (bytes / 2 ** 30).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " GiB";
}

/** A parameter count in short form ("8.03 B", "525 M"). */
export function count(n) {
  const units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [size, suffix] of units) {
    if (n >= size) return `${(n / size).toPrecision(3)} ${suffix}`;
  }
  return String(n);
}

/** A token count as "32k" when it is a multiple of 1024, else with separators. */
export function tokens(n) {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : n.toLocaleString("en-US");
}

/**
 * A horizontal stacked bar of parts against a capacity.
 * @param {SVGSVGElement} svg the target (cleared)
 * @param {{name: string, bytes: number}[]} parts the segments, in order
 * @param {number|null} capacity the capacity in bytes, drawn as a marker
 * @param {string} title the accessible title
 * @param {(n: number) => string} format how a value is shown (GiB by default)
 */
export function stackedBar(svg, parts, capacity, title, format = gib) {
  svg.replaceChildren();
  const width = drawWidth(svg), height = 96, left = 8, right = 8, top = 28, barHeight = 36;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.append(el("title", {}, title));
  const total = parts.reduce((s, p) => s + p.bytes, 0);
  const scaleMax = Math.max(total, capacity ?? 0, 1);
  const x = (b) => left + (b / scaleMax) * (width - left - right);
  svg.append(el("rect", { x: left, y: top, width: width - left - right, height: barHeight, class: "bar-track" }));
  let at = 0;
  parts.forEach((p, i) => {
    if (p.bytes <= 0) return;
    const seg = el("rect", {
      x: x(at), y: top, width: Math.max(0.5, x(at + p.bytes) - x(at)), height: barHeight,
      class: `seg seg-${i % 8}`, "data-name": p.name, "data-bytes": p.bytes,
    });
    seg.append(el("title", {}, `${p.name}: ${format(p.bytes)}`));
    svg.append(seg);
    at += p.bytes;
  });
  if (capacity) {
    const cx = x(capacity);
    svg.append(el("line", { x1: cx, x2: cx, y1: top - 8, y2: top + barHeight + 8, class: "capacity" }));
    const anchor = cx > width / 2 ? "end" : "start";
    svg.append(el("text", { x: cx + (anchor === "end" ? -4 : 4), y: top - 12, class: "chart-label", "text-anchor": anchor }, `GPU ${format(capacity)}`));
  }
  svg.append(el("text", { x: left, y: height - 6, class: "chart-label" }, `total ${format(total)}`));
}

/**
 * A line chart of y(bytes) over x(tokens, log scale) with a horizontal capacity line and a marked x.
 * @param {SVGSVGElement} svg the target (cleared)
 * @param {{x: number, y: number}[]} points sorted by x
 * @param {number|null} capacity bytes
 * @param {number|null} mark the x to mark (longest fitting context), or null
 * @param {string} title the accessible title
 */
export function lineChart(svg, points, capacity, mark, title) {
  svg.replaceChildren();
  const width = drawWidth(svg), height = width < 480 ? 260 : 300, left = 60, right = 16, top = 16, bottom = 44;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.append(el("title", {}, title));
  if (points.length === 0) return;
  const xs = points.map((p) => p.x);
  const xMin = Math.min(...xs), xMax = Math.max(...xs, mark ?? 0);
  const yMax = Math.max(...points.map((p) => p.y), capacity ?? 0) * 1.08 || 1;
  const lx = (v) => Math.log2(Math.max(v, 1));
  const sx = (v) => left + (xMax === xMin ? 0 : ((lx(v) - lx(xMin)) / (lx(xMax) - lx(xMin))) * (width - left - right));
  const sy = (v) => top + (1 - v / yMax) * (height - top - bottom);
  // Axes and grid.
  svg.append(el("line", { x1: left, x2: left, y1: top, y2: height - bottom, class: "axis" }));
  svg.append(el("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: "axis" }));
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i, y = sy(v);
    svg.append(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: left - 6, y: y + 4, class: "chart-label", "text-anchor": "end" }, gib(v).replace(" GiB", "")));
  }
  svg.append(el("text", { x: 14, y: top + (height - top - bottom) / 2, class: "chart-label", "text-anchor": "middle",
    transform: `rotate(-90 14 ${top + (height - top - bottom) / 2})` }, "GiB per GPU"));
  // Tick labels at the points, skipping any that would touch the previous one.
  let lastLabel = -Infinity;
  for (const p of points) {
    const x = sx(p.x);
    if (x - lastLabel < 44) continue;
    svg.append(el("text", { x, y: height - bottom + 16, class: "chart-label", "text-anchor": "middle" }, tokens(p.x)));
    lastLabel = x;
  }
  svg.append(el("text", { x: (left + width - right) / 2, y: height - 6, class: "chart-label", "text-anchor": "middle" }, "context (tokens, log scale)"));
  if (capacity) {
    const y = sy(capacity);
    svg.append(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "capacity", "data-bytes": capacity }));
    svg.append(el("text", { x: left + 6, y: y - 6, class: "chart-label" }, `GPU ${gib(capacity)}`));
  }
  const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ");
  svg.append(el("path", { d, class: "line" }));
  for (const p of points) {
    const dot = el("circle", { cx: sx(p.x), cy: sy(p.y), r: 3.5, class: "dot", "data-context": p.x, "data-bytes": p.y });
    dot.append(el("title", {}, `${tokens(p.x)} tokens: ${gib(p.y)}`));
    svg.append(dot);
  }
  if (mark) {
    const x = sx(mark);
    svg.append(el("line", { x1: x, x2: x, y1: top, y2: height - bottom, class: "mark", "data-context": mark }));
    const anchor = x > width * 0.7 ? "end" : "start";
    svg.append(el("text", { x: x + (anchor === "end" ? -4 : 4), y: height - bottom - 8, class: "chart-label mark-label", "text-anchor": anchor },
      `longest fit ${tokens(mark)}`));
  }
}
