// Renders an evaluation: JSON (everything, full precision, NaN as null),
// CSV (the per-landmark and per-image tables) and a plain aligned text
// table. Millimetres get 3 decimals, percentages 2.
import { stringify } from 'csv-stringify/sync';
import { type MetricResult, sdrRuleText } from './metrics.js';

/** Where the pixel spacing came from: the --spacing option, or each image's entry in the ground truth. */
export type SpacingFrom = { from: 'option'; x: number; y: number } | { from: 'ground-truth' };

/** What `evaluate` adds to the metrics: the files and the images left out. */
export interface EvaluationInfo {
  pred: string;
  gt: string;
  spacing: SpacingFrom;
  /** Ground-truth images without a prediction: counted and named, not evaluated. */
  missingPredictions: string[];
}

export interface EvaluationResult extends MetricResult, EvaluationInfo {}

type Renderable = MetricResult & Partial<EvaluationInfo>;

const mm = (v: number) => (Number.isNaN(v) ? '' : v.toFixed(3));
const pct = (v: number) => (Number.isNaN(v) ? '' : v.toFixed(2));
const radiusLabel = (r: number) => `${r}mm`;

export function renderJson(result: Renderable): string {
  return `${JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

export function renderLandmarkCsv(result: MetricResult): string {
  const header = [
    'landmark',
    'n_valid',
    'n_pred',
    'n_gt',
    'mre_mm',
    'std_mm',
    'median_mm',
    'max_mm',
    ...result.radii.map((r) => `sdr_${radiusLabel(r)}_pct`),
  ];
  const rows = result.perLandmark.map((l) => [
    l.name,
    l.n,
    l.predicted,
    l.groundTruth,
    mm(l.mre),
    mm(l.std),
    mm(l.median),
    mm(l.max),
    ...l.sdr.map((s) => pct(s.percent)),
  ]);
  return stringify([header, ...rows]);
}

export function renderImageCsv(result: MetricResult): string {
  const header = [
    'image',
    'n_valid',
    'n_pred',
    'n_gt',
    'mre_mm',
    'max_mm',
    'max_landmark',
    'spacing_x_mm',
    'spacing_y_mm',
  ];
  const rows = result.perImage.map((r) => [
    r.image,
    r.n,
    r.predicted,
    r.groundTruth,
    mm(r.mre),
    mm(r.max),
    r.maxLandmark ?? '',
    r.spacing.x,
    r.spacing.y,
  ]);
  return stringify([header, ...rows]);
}

/** Columns padded to their widest cell: the first (and any in `left`) left-aligned, the rest right-aligned. */
function table(rows: string[][], left: number[] = []): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 || left.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

const dash = (s: string) => s || '-';
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const listNames = (names: string[], max = 10) =>
  names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')}, ... (${names.length - max} more)`;

export function renderText(result: Renderable): string {
  const lines: string[] = [];
  const o = result.overall;
  const c = result.counts;
  if (result.pred !== undefined) lines.push(`predictions:  ${result.pred}`);
  if (result.gt !== undefined) lines.push(`ground truth: ${result.gt}`);
  const missing = result.missingPredictions ?? [];
  lines.push(
    `images: ${c.images} evaluated` +
      (missing.length ? `, ${missing.length} without prediction (${listNames(missing)})` : ''),
  );
  lines.push(
    `points: ${c.both} evaluated of ${c.points}; ${c.predicted} predicted, ${c.groundTruth} in ground truth`,
  );
  if (c.groundTruth > c.both)
    lines.push(
      `  ${plural(c.groundTruth - c.both, 'ground-truth point')} without a prediction: not in MRE or SDR`,
    );
  if (result.spacing)
    lines.push(
      result.spacing.from === 'option'
        ? `pixel spacing: ${result.spacing.x} x ${result.spacing.y} mm (--spacing)`
        : 'pixel spacing: per image, from the ground-truth file',
    );
  lines.push(`${sdrRuleText(result.sdrRule)}; std is the population std (divide by n)`);
  lines.push('');
  lines.push(
    `overall: MRE ${dash(mm(o.mre))} ± ${dash(mm(o.std))} mm, median ${dash(mm(o.median))} mm, ` +
      `max ${dash(mm(o.max))} mm, ` +
      `SDR ${o.sdr.map((s) => `${radiusLabel(s.radius)} ${Number.isNaN(s.percent) ? '-' : `${pct(s.percent)}%`}`).join(', ')}`,
  );
  lines.push('');
  lines.push(
    ...table([
      ['landmark', 'n', 'MRE', 'std', 'median', 'max', ...result.radii.map((r) => `SDR@${radiusLabel(r)}`)],
      ...result.perLandmark.map((l) => [
        l.name,
        String(l.n),
        dash(mm(l.mre)),
        dash(mm(l.std)),
        dash(mm(l.median)),
        dash(mm(l.max)),
        ...l.sdr.map((s) => (Number.isNaN(s.percent) ? '-' : `${pct(s.percent)}%`)),
      ]),
    ]),
  );
  lines.push('');
  lines.push(
    `outliers: ${result.outliers
      .map((r) => `${plural(r.points, 'point')} ${r.rule} ${r.radius} mm (${plural(r.images, 'image')})`)
      .join(', ')}`,
  );
  if (result.worst.images.length) {
    lines.push(`worst images by ${result.worst.by} error:`);
    lines.push(
      ...table(
        [
          ['  image', 'MRE', 'max', 'at'],
          ...result.worst.images.map((w) => [`  ${w.image}`, mm(w.mre), mm(w.max), w.maxLandmark ?? '-']),
        ],
        [3],
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
