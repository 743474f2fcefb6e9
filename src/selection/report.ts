// The outputs of a selection: selection.json (read by the web annotator, so
// its `ranked` entries keep exactly rank, image, file, score, gain),
// selection.csv, and report.html showing each chosen image's thumbnail with
// its key points. Pure rendering; the `select` command writes the files.
import { stringify } from 'csv-stringify/sync';
import { fromWorkingPoint } from '../features/preprocess.js';
import type { ProposalMethod } from '../keypoints/propose.js';
import type { Selection, Strategy } from './select.js';
import type { Direction } from './similarity.js';

export interface SelectionMeta {
  /** The model as given (absolute path). */
  model: string;
  /** ISO time. */
  created: string;
  inputSize: number;
  seed: number;
  direction: Direction;
  gridStride: number;
  keypoints: { method: ProposalMethod; maxPoints: number; contrastThreshold: number };
}

const STRATEGY_TEXT: Record<Strategy, string> = {
  medoids:
    'k-medoids on global embeddings: greedy, then swaps while the mean distance to the nearest chosen image falls (one image: the SCP pick)',
  scp: 'SCP: greedy, then swaps while R improves (one image: every single image scored)',
  'scp-greedy': 'SCP: greedy only',
  'scp-random': 'SCP: the best of many random sets (the seed paper)',
  random: 'baseline: uniformly random',
  kcenter: 'baseline: k-center greedy on global embeddings, from the medoid',
  typiclust: 'baseline: TypiClust, the most typical image of each k-means cluster',
  kmeans: 'baseline: k-means medoids, the image nearest each centroid',
};

const SCORING_TEXT =
  'score: R (mean over key points of the best match among the chosen) of the first `rank` images; ' +
  'gain: how much the image added to R. null: no SCP matrix was computed (a strategy that does not use R, without --score).';

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** The selection.json object. */
export function selectionRecord(sel: Selection, meta: SelectionMeta) {
  const chosenKeypoints = Object.fromEntries(
    sel.ranked.map((r, k) => {
      const { width, height, points } = sel.keypoints[k]!;
      return [
        r.image,
        points.map((p) => {
          const o = fromWorkingPoint(p, width, height, meta.inputSize);
          return [round(o.x, 1), round(o.y, 1)];
        }),
      ];
    }),
  );
  return {
    strategy: sel.strategy,
    budget: sel.budget,
    model: meta.model,
    created: meta.created,
    ranked: sel.ranked.map(({ rank, image, file, score, gain }) => ({ rank, image, file, score, gain })),
    ...(sel.labeled.length > 0 ? { labeled: sel.labeled } : {}),
    R: sel.R,
    scoring: SCORING_TEXT,
    pool: sel.pool,
    scale: sel.scale,
    ...(sel.estimate
      ? {
          estimate: {
            ...sel.estimate,
            value: round(sel.estimate.value, 6),
            halfWidth: round(sel.estimate.halfWidth, 6),
          },
        }
      : {}),
    seed: meta.seed,
    inputSize: meta.inputSize,
    ...(sel.matrix ? { direction: meta.direction, gridStride: meta.gridStride, matrix: sel.matrix } : {}),
    ...(sel.evaluated !== undefined ? { randomSetsEvaluated: sel.evaluated } : {}),
    timings: Object.fromEntries(Object.entries(sel.timings).map(([k, v]) => [k, round(v, 3)])),
    keypoints: {
      ...meta.keypoints,
      meanPerImage: sel.meanKeypoints,
      /** Original pixels, strongest first. */
      chosen: chosenKeypoints,
    },
  };
}

/** Indented JSON, with each [x, y] pair kept on one line. */
export function renderSelectionJson(record: ReturnType<typeof selectionRecord>): string {
  const text = JSON.stringify(record, null, 2).replace(
    /\[\s+(-?[\d.e+-]+),\s+(-?[\d.e+-]+)\s+\]/g,
    '[$1, $2]',
  );
  return `${text}\n`;
}

export function renderSelectionCsv(sel: Selection): string {
  return stringify([
    ['rank', 'image', 'score', 'gain'],
    ...sel.ranked.map((r) => [r.rank, r.image, r.score ?? '', r.gain ?? '']),
  ]);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fixed = (v: number | null, digits = 4) => (v === null ? '–' : v.toFixed(digits));

export interface ReportThumbnail {
  /** Relative to report.html. */
  href: string;
  width: number;
  height: number;
  /** Key points in thumbnail pixels. */
  points: { x: number; y: number }[];
}

function figure(sel: Selection, k: number, thumb: ReportThumbnail): string {
  const r = sel.ranked[k]!;
  const circles = thumb.points
    .map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3"/>`)
    .join('');
  const scoreLine = r.score === null ? '' : `<br>R ${fixed(r.score)} (+${fixed(r.gain)})`;
  return `<figure>
<svg width="${thumb.width}" height="${thumb.height}" viewBox="0 0 ${thumb.width} ${thumb.height}" role="img" aria-label="${escapeHtml(r.image)}">
<image href="${escapeHtml(thumb.href)}" width="${thumb.width}" height="${thumb.height}"/>${circles}</svg>
<figcaption><b>${r.rank}. ${escapeHtml(r.image)}</b>${scoreLine}<br>${thumb.points.length} key points</figcaption>
</figure>`;
}

/** report.html: settings, timings per phase, and one figure per chosen image in rank order. */
export function renderSelectionHtml(sel: Selection, meta: SelectionMeta, thumbs: ReportThumbnail[]): string {
  const t = sel.timings;
  const phases: [string, number][] = [
    ['key points', t.keypoints],
    ['features', t.features],
    ['similarity', t.similarity],
    ['search', t.search],
    ['total', t.total],
  ];
  const kp = meta.keypoints;
  const settings = [
    `${sel.budget} of ${sel.pool} images; ${escapeHtml(STRATEGY_TEXT[sel.strategy])}`,
    sel.R === null
      ? "the SCP's R not computed (this strategy does not use it; --score computes it for comparison)"
      : `R = ${fixed(sel.R)}${sel.estimate?.score === 'R' ? ` +- ${fixed(sel.estimate.halfWidth)} (95%, estimated on the key points of ${sel.estimate.sample} sampled images; ${sel.estimate.candidates} random candidates screened, the best ${sel.matrix?.candidates ?? 0} scored in full)` : ''}`,
    sel.estimate?.score === 'C'
      ? `sampled search: ${sel.estimate.candidates} candidates; C = ${fixed(sel.estimate.value)} (exact over the pool)`
      : '',
    `key points: ${kp.method}, at most ${kp.maxPoints}, contrast threshold ${kp.contrastThreshold}` +
      (sel.meanKeypoints === null ? '' : `, ${sel.meanKeypoints.toFixed(1)} per image on average`),
    sel.matrix
      ? `similarity: ${meta.direction}, grid stride ${meta.gridStride}, ${sel.matrix.rows} x ${sel.matrix.candidates}`
      : '',
    `model ${escapeHtml(meta.model)} at ${meta.inputSize} px; seed ${meta.seed}; ${escapeHtml(meta.created)}`,
  ].filter((line) => line !== '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fewmark selection: ${escapeHtml(sel.strategy)}, ${sel.budget} of ${sel.pool}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; }
svg { display: block; background: #000; }
circle { fill: none; stroke: #ff9f0a; stroke-width: 1.2; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child, td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>Images to annotate, best first</h1>
${settings.map((s) => `<p>${s}</p>`).join('\n')}
<table>
<tr><th>phase</th><th>seconds</th></tr>
${phases.map(([name, s]) => `<tr><td>${name}</td><td>${s.toFixed(2)}</td></tr>`).join('\n')}
</table>
<div class="grid">
${sel.ranked.map((_, k) => figure(sel, k, thumbs[k]!)).join('\n')}
</div>
</body>
</html>
`;
}
