// The Show Stats panel: draws an agent's CPU and memory samples as two line
// charts (SVG, no library) and its current figures as a table.
/* global acquireVsCodeApi, document, window */
(function () {
  acquireVsCodeApi();
  const SVG = 'http://www.w3.org/2000/svg';

  function bytes(n) {
    if (n >= 1024 ** 3) return (n / 1024 ** 3).toFixed(1) + ' GB';
    if (n >= 1024 ** 2) return Math.round(n / 1024 ** 2) + ' MB';
    return Math.round(n / 1024) + ' KB';
  }

  function draw(svg, values, max) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (values.length < 2) return;
    const step = 300 / (values.length - 1);
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(100 - (Math.min(v, max) / max) * 100).toFixed(1)}`).join(' ');
    const area = document.createElementNS(SVG, 'polygon');
    area.setAttribute('points', `0,100 ${points} 300,100`);
    area.setAttribute('class', 'area');
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points);
    line.setAttribute('class', 'line');
    svg.append(area, line);
  }

  function row(table, name, value) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    const td = document.createElement('td');
    th.textContent = name;
    td.textContent = value;
    tr.append(th, td);
    table.append(tr);
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!message || message.type !== 'samples' || !Array.isArray(message.samples)) return;
    const samples = message.samples;
    const last = samples[samples.length - 1];
    document.getElementById('empty').hidden = samples.length > 0;
    if (!last) return;
    const limit = last.memoryLimitBytes || Math.max(...samples.map((s) => s.memoryBytes)) || 1;
    const cpuMax = Math.max(100, ...samples.map((s) => s.cpuPercent));
    draw(document.getElementById('cpu'), samples.map((s) => s.cpuPercent), cpuMax);
    draw(document.getElementById('memory'), samples.map((s) => s.memoryBytes), limit);
    document.getElementById('cpu-now').textContent = `${last.cpuPercent.toFixed(1)}% (scale ${cpuMax.toFixed(0)}%)`;
    document.getElementById('memory-now').textContent = `${bytes(last.memoryBytes)} of ${last.memoryLimitBytes ? bytes(last.memoryLimitBytes) : 'no limit'}`;
    const table = document.getElementById('facts');
    table.replaceChildren();
    row(table, 'Processes', String(last.pids));
    row(table, 'Network in / out', `${bytes(last.netRxBytes)} / ${bytes(last.netTxBytes)}`);
    row(table, 'Disk read / written', `${bytes(last.blockReadBytes)} / ${bytes(last.blockWriteBytes)}`);
    row(table, 'Disk (its own layer)', last.diskBytes === undefined ? 'measuring…' : bytes(last.diskBytes));
    if (last.oomKills > 0) row(table, 'Out of memory', `${last.oomKills} process(es) killed at the limit`);
    row(table, 'Samples', `${samples.length}, every ${samples.length > 1 ? Math.round((last.sampledAt - samples[0].sampledAt) / (samples.length - 1) / 1000) : '?'} s`);
  });
})();
