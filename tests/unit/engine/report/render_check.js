// node render_check.js PAGE.html REPORT.json
//
// Checks the script of a rendered backtest report page (engine/report/backtest_report.html)
// without a browser: the page's data parses back to REPORT.json, its script compiles, and
// its pure builders, run on that data, draw what the report says (one bar per rule and
// ratio, one heat-map row per rule, the threshold on every score chart, hostile entity ids
// as text only). Plain Node, no packages.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');

const [pagePath, reportPath] = process.argv.slice(2);
if (!pagePath || !reportPath) {
  console.error('usage: node render_check.js PAGE.html REPORT.json');
  process.exit(2);
}
const html = fs.readFileSync(pagePath, 'utf8');
const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log('ok   ' + name);
  } catch (e) {
    failed++;
    console.log('FAIL ' + name + '\n     ' + String(e && e.stack ? e.stack : e).split('\n').join('\n     '));
  }
}

// The text of <script ATTRS> up to the first script end tag, as the HTML parser reads it.
function scriptText(attrs) {
  const open = '<script ' + attrs + '>';
  const start = html.indexOf(open);
  assert.notEqual(start, -1, 'no ' + open);
  const from = start + open.length;
  const end = html.toLowerCase().indexOf('</script', from);
  assert.notEqual(end, -1, 'no end tag after ' + open);
  return html.slice(from, end);
}

let page = null;
check('the page script compiles and loads without a DOM', () => {
  const src = scriptText('id="report-page"');
  const module = { exports: {} };
  new Function('module', src)(module);
  page = module.exports;
  for (const f of ['h', 'toMarkup', 'walk', 'heatmapChart', 'prChart', 'scoreChart', 'buildPage']) {
    assert.equal(typeof page[f], 'function', f);
  }
});
if (!page) {
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exit(1);
}

check('the data script parses back to the report', () => {
  assert.deepEqual(JSON.parse(scriptText('type="application/json" id="report-data"')), report);
});

const nodes = (tree, pred) => {
  const out = [];
  page.walk(tree, (n) => { if (pred(n)) out.push(n); });
  return out;
};
const hasClass = (n, c) => String(n.attrs.class || '').split(' ').includes(c);
const textOf = (n) => n.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
const DASH = '\u2013';

report.runs.forEach((run, ri) => {
  const at = ' (run ' + ri + ', ' + run.label + ')';

  check('precision and recall: one bar per rule and defined ratio, a value beside each' + at, () => {
    const svg = page.prChart(run.rules);
    assert.equal(svg.tag, 'svg');
    for (const key of ['precision', 'recall']) {
      const bars = nodes(svg, (n) => n.tag === 'rect' && hasClass(n, 'bar') && hasClass(n, key));
      const defined = run.rules.filter((r) => r[key] !== null);
      assert.equal(bars.length, defined.length, key + ' bars');
      assert.deepEqual(bars.map((b) => b.attrs['data-rule']), defined.map((r) => r.id));
      const values = nodes(svg, (n) => n.tag === 'text' && hasClass(n, 'value') && hasClass(n, key)).map(textOf);
      const letter = key === 'precision' ? 'P ' : 'R ';
      assert.deepEqual(values, run.rules.map((r) => letter + (r[key] === null ? DASH : r[key].toFixed(3))));
    }
    const labels = nodes(svg, (n) => hasClass(n, 'row-label')).map((n) => n.children[n.children.length - 1]);
    assert.deepEqual(labels, run.rules.map((r) => r.id));
    assert.match(page.toMarkup(svg), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
  });

  check('signals per rule per day: one row per rule, one cell per non-zero day, totals written' + at, () => {
    const svg = page.heatmapChart({ title: 't', unit: 'signals', days: report.input.days,
      rows: run.rules.map((r) => ({ label: r.id, values: r.per_day })) });
    const cells = nodes(svg, (n) => n.tag === 'rect' && hasClass(n, 'cell'));
    const nonZero = run.rules.flatMap((r, i) => r.per_day.map((v, d) => (v > 0 ? i + ':' + d : null))).filter(Boolean);
    assert.deepEqual(cells.map((c) => c.attrs['data-row'] + ':' + c.attrs['data-day']), nonZero);
    assert.deepEqual(nodes(svg, (n) => hasClass(n, 'row-total')).map(textOf), run.rules.map((r) => String(r.signals)));
    assert.equal(nodes(svg, (n) => hasClass(n, 'row-label')).length, run.rules.length);
  });

  check('alerts per typology per day: totals match the typologies\' alerts' + at, () => {
    const svg = page.heatmapChart({ title: 't', unit: 'alerts', days: report.input.days,
      rows: run.typologies.map((t) => ({ label: t.id, values: t.per_day })) });
    assert.deepEqual(nodes(svg, (n) => hasClass(n, 'row-total')).map(textOf), run.typologies.map((t) => String(t.alerts)));
  });

  check('score distribution: one bar per score and side, counts written, threshold drawn' + at, () => {
    for (const t of run.typologies) {
      const svg = page.scoreChart(t);
      for (const side of ['positive', 'negative']) {
        const bars = nodes(svg, (n) => n.tag === 'rect' && hasClass(n, 'bar') && hasClass(n, side));
        assert.equal(bars.length, t.scores[side].length, t.id + ' ' + side);
        const counts = nodes(svg, (n) => n.tag === 'text' && hasClass(n, 'count') && hasClass(n, side)).map(textOf);
        assert.deepEqual(counts, t.scores[side].map(([, n]) => String(n)));
      }
      // Positive bars stand above the axis, negative ones hang below it.
      const axis = nodes(svg, (n) => n.tag === 'line' && hasClass(n, 'axis'))[0];
      const y = Number(axis.attrs.y1);
      nodes(svg, (n) => hasClass(n, 'bar') && hasClass(n, 'positive'))
        .forEach((b) => assert.ok(Number(b.attrs.y) + Number(b.attrs.height) <= y + 0.05));
      nodes(svg, (n) => hasClass(n, 'bar') && hasClass(n, 'negative')).forEach((b) => assert.ok(Number(b.attrs.y) >= y - 0.05));
      const threshold = nodes(svg, (n) => hasClass(n, 'threshold-label')).map(textOf);
      assert.deepEqual(threshold, ['threshold ' + t.threshold]);
    }
  });
});

check('score bins: few distinct scores stay apart, many are binned', () => {
  assert.deepEqual(page.scoreBins([[50, 3], [100, 20]], [[25, 118], [50, 40]], 40),
    [{ lo: 25, hi: 25, positive: 0, negative: 118 }, { lo: 50, hi: 50, positive: 3, negative: 40 },
      { lo: 100, hi: 100, positive: 20, negative: 0 }]);
  const many = Array.from({ length: 500 }, (_, i) => [i, 1]);
  const bins = page.scoreBins(many, [], 40);
  assert.ok(bins.length <= 41 && bins.length >= 20, String(bins.length));
  assert.equal(bins.reduce((s, b) => s + b.positive, 0), 500);
});

check('a year of days gets month labels, not 365', () => {
  const days = [];
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 86400000) days.push(new Date(t).toISOString().slice(0, 10));
  const svg = page.heatmapChart({ title: 'year', unit: 'signals', days,
    rows: Array.from({ length: 20 }, (_, i) => ({ label: 'rule.' + i, values: days.map((_, d) => (d * (i + 1)) % 7) })) });
  const ticks = nodes(svg, (n) => hasClass(n, 'tick')).map(textOf);
  assert.equal(ticks.length, 12);
  assert.equal(ticks[0], '2026-01');
  assert.ok(Number(svg.attrs.width) < 1400, svg.attrs.width);
});

check('null ratios show as a dash, never as 0 or "null"', () => {
  assert.equal(page.fmtRatio(null), DASH);
  assert.equal(page.fmtRatio(undefined), DASH);
  assert.equal(page.fmtRatio(0), '0.000');
  assert.equal(page.fmtInt(2199224), '2,199,224');
});

check('sorting puts missing values last either way', () => {
  const keys = ['0.5', '', '1', '0.25'];
  assert.deepEqual([...keys].sort((a, b) => page.compareSortKeys(a, b, false)), ['0.25', '0.5', '1', '']);
  assert.deepEqual([...keys].sort((a, b) => page.compareSortKeys(a, b, true)), ['1', '0.5', '0.25', '']);
});

let tree = null;
let markup = '';
check('the whole page builds from the report', () => {
  tree = page.buildPage(report);
  markup = page.toMarkup(tree);
  assert.equal(nodes(tree, (n) => hasClass(n, 'notice')).length, 0, 'a section failed: ' +
    nodes(tree, (n) => hasClass(n, 'notice')).map(textOf).join('; '));
  assert.equal(nodes(tree, (n) => n.tag === 'section' && hasClass(n, 'run')).length, report.runs.length);
  assert.equal(nodes(tree, (n) => n.tag === 'section' && n.attrs.id === 'comparison').length, 1);
  assert.equal(nodes(tree, (n) => hasClass(n, 'card') && hasClass(n, 'typology')).length,
    report.runs.reduce((s, r) => s + r.typologies.length, 0));
  // Runs with patterns get their table: one row per pattern.
  assert.deepEqual(nodes(tree, (n) => n.tag === 'h3' && textOf(n) === 'Patterns').length,
    report.runs.filter((r) => (r.patterns || []).length > 0).length);
  assert.ok(report.runs.some((r) => !r.patterns), 'the sample keeps a run without patterns');
  assert.ok(markup.includes('R1-0007'));
  assert.equal(nodes(tree, (n) => hasClass(n, 'quiet')).length,
    report.runs.reduce((s, r) => s + r.lookalikes.filter((l) => l.flagged_by.length === 0).length, 0));
});

check('hostile entity ids are text, never elements or attributes', () => {
  const ids = report.comparison.only_b.map((r) => r.entity).filter((id) => /[<>]/.test(id));
  assert.ok(ids.length >= 1);
  const texts = [];
  page.walk(tree, (n) => n.children.forEach((c) => { if (typeof c === 'string') texts.push(c); }));
  for (const id of ids) assert.ok(texts.includes(id), id);
  const tags = new Set(nodes(tree, () => true).map((n) => n.tag));
  for (const bad of ['img', 'script', 'iframe', 'object', 'embed', 'style', 'link']) assert.ok(!tags.has(bad), bad);
  // No attribute name came from data, and no event handler exists at all.
  nodes(tree, () => true).forEach((n) => Object.keys(n.attrs).forEach((k) => {
    assert.match(k, /^[a-zA-Z][a-zA-Z0-9-]*$/, k);
    assert.ok(!k.startsWith('on'), k);
  }));
  assert.ok(!/<img|<script/i.test(markup));
  assert.ok(markup.includes('evil&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
});

check('UTF-8 names and null ratios reach the page as written', () => {
  assert.ok(markup.includes('fam-VN-Nguyễn-Thị-Hương'));
  assert.ok(markup.includes('नेपाल'));
  assert.ok(markup.includes('>' + DASH + '<'));
  assert.ok(!/>(null|undefined|NaN)</.test(markup), 'a missing value printed as null/undefined/NaN');
});

check('the comparison lists every alert only one config raised', () => {
  const section = nodes(tree, (n) => n.attrs.id === 'comparison')[0];
  const rows = nodes(section, (n) => n.tag === 'tbody').slice(-2).map((b) => b.children.length);
  assert.deepEqual(rows, [report.comparison.only_a.length, report.comparison.only_b.length]);
});

check('one run without a comparison: no comparison section, no link to one', () => {
  const single = { ...report, runs: [report.runs[0]], comparison: null };
  const t = page.buildPage(single);
  assert.equal(nodes(t, (n) => n.tag === 'section' && hasClass(n, 'run')).length, 1);
  assert.equal(nodes(t, (n) => n.attrs.id === 'comparison' || n.attrs.href === '#comparison').length, 0);
  assert.equal(nodes(t, (n) => hasClass(n, 'notice')).length, 0);
});

check('a report that is not v1 or is half empty still draws', () => {
  for (const odd of [{}, { report: 'other' }, { runs: [{}] }, { runs: [{ rules: [{}], typologies: [{ scores: {} }] }], comparison: {} }, null, []]) {
    const t = page.buildPage(odd);
    assert.equal(nodes(t, (n) => hasClass(n, 'notice') && /Could not draw/.test(textOf(n))).length, 0, JSON.stringify(odd));
  }
});

console.log(passed + ' passed, ' + failed + ' failed');
process.exit(failed === 0 ? 0 : 1);
