// Small inline-SVG charts: a line chart of daily series and horizontal bars. Colours
// come from CSS classes (so Telegram's light and dark themes both read well), labels
// from the caller (already in the coordinator's language).
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A "nice" step for integer axes: 1, 2, 5, 10, 20, 50 …
  function niceStep(max, ticks) {
    const raw = Math.max(1, max / ticks);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
    return 10 * power;
  }

  // series: [{name, values}], xLabels: one label per value. Returns an <svg>.
  function line(series, xLabels, options) {
    const width = 360, height = 200, left = 34, right = 8, top = 8, bottom = 22;
    const count = xLabels.length;
    const max = Math.max(1, ...series.flatMap((s) => s.values));
    const step = niceStep(max, 4);
    const top_value = Math.ceil(max / step) * step;
    const x = (i) => left + (count <= 1 ? 0 : (i * (width - left - right)) / (count - 1));
    const y = (v) => top + (height - top - bottom) * (1 - v / top_value);
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": options.title });
    root.appendChild(svg("title", {}, options.title));
    for (let v = 0; v <= top_value; v += step) {
      root.appendChild(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "axis" }));
      root.appendChild(svg("text", { x: left - 4, y: y(v) + 3, "text-anchor": "end" }, String(v)));
    }
    const labelEvery = Math.max(1, Math.ceil(count / 5));
    for (let i = 0; i < count; i += labelEvery) {
      root.appendChild(svg("text", { x: x(i), y: height - 6, "text-anchor": "middle" }, xLabels[i]));
    }
    series.forEach((s, index) => {
      const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      root.appendChild(svg("polyline", { points, class: `s${index} series`, fill: "none",
        "stroke-width": 1.6, "stroke-dasharray": index ? "4 3" : "none",
        "data-name": s.name, "data-total": s.values.reduce((a, b) => a + b, 0) }));
    });
    return root;
  }

  // items: [{label, value}], biggest first. Returns an <svg>.
  function bars(items) {
    const rowHeight = 22, width = 360, labelWidth = 150;
    const height = Math.max(rowHeight, items.length * rowHeight);
    const max = Math.max(1, ...items.map((item) => item.value));
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
    items.forEach((item, i) => {
      const barWidth = ((width - labelWidth - 40) * item.value) / max;
      const yTop = i * rowHeight;
      root.appendChild(svg("text", { x: 0, y: yTop + 15, class: "bar-label" },
        item.label.length > 24 ? item.label.slice(0, 23) + "…" : item.label));
      root.appendChild(svg("rect", { x: labelWidth, y: yTop + 4, width: Math.max(1, barWidth),
        height: rowHeight - 8, rx: 3, class: "bar" }));
      root.appendChild(svg("text", { x: labelWidth + barWidth + 4, y: yTop + 15 }, String(item.value)));
    });
    return root;
  }

  window.CorridorCharts = { line, bars };
})();
