// The run's plot, an SVG written by hand: for each scenario, one row per server with its logins/s
// (left) and its p99 (right) as bars, each scaled to the largest value in that scenario; in the
// fixed-load scenario the rate offered and the p99.9 are written beside them.
import { fmt } from './report.mjs';

const ROW = 20;
const HEADING = 26;
const LABEL_WIDTH = 260;
const BAR_WIDTH = 230;
const GAP = 40;
const WIDTH = LABEL_WIDTH + 2 * (BAR_WIDTH + GAP);

const escapeXml = (text) =>
  String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function bar(x, y, value, max, color, text) {
  const width = Number.isFinite(value) && max > 0 ? Math.max(1, (value / max) * BAR_WIDTH * 0.8) : 0;
  return (
    `<rect x="${x}" y="${y + 4}" width="${width.toFixed(1)}" height="${ROW - 8}" fill="${color}"/>` +
    `<text x="${(x + width + 4).toFixed(1)}" y="${y + ROW - 6}">${escapeXml(text)}</text>`
  );
}

/** The SVG document for a run's results. */
export function plotSvg(results) {
  const parts = [];
  let y = 30;
  const left = LABEL_WIDTH;
  const right = LABEL_WIDTH + BAR_WIDTH + GAP;
  parts.push(
    `<text x="${left}" y="20" font-weight="bold">logins/s</text>`,
    `<text x="${right}" y="20" font-weight="bold">p99 latency (ms)</text>`,
  );
  for (const s of results.scenarios) {
    parts.push(`<text x="0" y="${y + 18}" font-weight="bold">${escapeXml(s.title)}</text>`);
    y += HEADING;
    const maxRate = Math.max(0, ...s.servers.map((x) => x.figures.loginsPerSecond.median).filter(Number.isFinite));
    const maxP99 = Math.max(0, ...s.servers.map((x) => x.figures.p99.median).filter(Number.isFinite));
    s.servers.forEach((server, i) => {
      const color = i === 0 ? '#1f6feb' : '#8b949e';
      const rate = server.figures.loginsPerSecond.median;
      const p99 = server.figures.p99.median;
      const p999 = server.figures.p999?.median;
      const offered = server.figures.offeredPerSecond?.median;
      const rateText = Number.isFinite(rate) ? fmt(rate) : 'one login at a time';
      parts.push(
        `<text x="8" y="${y + ROW - 6}">${escapeXml(server.name)}</text>`,
        bar(left, y, rate, maxRate, color, offered === undefined ? rateText : `${rateText} of ${fmt(offered)} offered`),
        bar(right, y, p99, maxP99, color, p999 === undefined ? fmt(p99, 1) : `${fmt(p99, 1)} (p99.9 ${fmt(p999, 1)})`),
      );
      y += ROW;
    });
    y += 8;
  }
  const height = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">
<title>passport-withpersona benchmark, ${escapeXml(results.date)}: logins/s and p99 per scenario</title>
<rect width="100%" height="100%" fill="#ffffff"/>
${parts.join('\n')}
</svg>
`;
}
