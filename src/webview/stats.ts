// The Show Stats panel (src/vscode/stats), bundled by esbuild.mjs: draws an agent's
// CPU and memory samples as two line charts (SVG, no library) and its current figures as a table.
import { elementById } from './dom';
import { parseStatsMessage } from './protocol/statsMessages';

// The page sends nothing back; the API is still claimed, as it always was, so no other script in the page can.
acquireVsCodeApi();

const SVG = 'http://www.w3.org/2000/svg';
/** The charts' viewBox (see statsPanels.ts): samples spread over the width, values over the height. */
const WIDTH = 300;
const HEIGHT = 100;

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${Math.round(n / 1024 ** 2)} MB`;
  return `${Math.round(n / 1024)} KB`;
}

/** Replaces the chart with the values as a line over a filled area, `max` at the top. */
function draw(svg: SVGSVGElement, values: readonly number[], max: number): void {
  svg.replaceChildren();
  if (values.length < 2) return;
  const step = WIDTH / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - (Math.min(v, max) / max) * HEIGHT).toFixed(1)}`).join(' ');
  const area = document.createElementNS(SVG, 'polygon');
  area.setAttribute('points', `0,${HEIGHT} ${points} ${WIDTH},${HEIGHT}`);
  area.setAttribute('class', 'area');
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points);
  line.setAttribute('class', 'line');
  svg.append(area, line);
}

function row(table: HTMLTableElement, name: string, value: string): void {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  const td = document.createElement('td');
  th.textContent = name;
  td.textContent = value;
  tr.append(th, td);
  table.append(tr);
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = parseStatsMessage(event.data);
  if (!message) return;
  const samples = message.samples;
  const last = samples.at(-1);
  elementById('empty', HTMLParagraphElement).hidden = samples.length > 0;
  // The API's figures show even before the first sample (and for a stopped agent's last look); nothing when it used none.
  const api = elementById('api', HTMLParagraphElement);
  api.hidden = message.apiUsage === undefined;
  api.textContent = message.apiUsage === undefined ? '' : `API: ${message.apiUsage}`;
  if (!last) return;
  // No limit (undefined or 0): the highest sample tops the chart.
  const limit = last.memoryLimitBytes || Math.max(...samples.map((s) => s.memoryBytes)) || 1;
  const cpuMax = Math.max(100, ...samples.map((s) => s.cpuPercent));
  draw(elementById('cpu', SVGSVGElement), samples.map((s) => s.cpuPercent), cpuMax);
  draw(elementById('memory', SVGSVGElement), samples.map((s) => s.memoryBytes), limit);
  elementById('cpu-now', HTMLSpanElement).textContent = `${last.cpuPercent.toFixed(1)}% (scale ${cpuMax.toFixed(0)}%)`;
  elementById('memory-now', HTMLSpanElement).textContent = `${bytes(last.memoryBytes)} of ${last.memoryLimitBytes ? bytes(last.memoryLimitBytes) : 'no limit'}`;
  const table = elementById('facts', HTMLTableElement);
  table.replaceChildren();
  row(table, 'Processes', String(last.pids));
  row(table, 'Network in / out', `${bytes(last.netRxBytes)} / ${bytes(last.netTxBytes)}`);
  row(table, 'Disk read / written', `${bytes(last.blockReadBytes)} / ${bytes(last.blockWriteBytes)}`);
  row(table, 'Disk (its own layer)', last.diskBytes === undefined ? 'measuring…' : bytes(last.diskBytes));
  if (last.oomKills > 0) row(table, 'Out of memory', `${last.oomKills} process(es) killed at the limit`);
  const interval = samples.length > 1 ? Math.round((last.sampledAt - samples[0].sampledAt) / (samples.length - 1) / 1000) : '?';
  row(table, 'Samples', `${samples.length}, every ${interval} s`);
});
