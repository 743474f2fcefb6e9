// Figures as SVG files, drawn with Vega-Lite (a declarative grammar: a spec
// per figure, rendered headless by Vega without a browser or canvas).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/atomic-write.js';

async function render(spec: TopLevelSpec, file: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  await writeFileAtomic(file, await view.toSVG());
  view.finalize();
}

/** The paper's Fig. 1: how MRE varies with the template, with marked picks. */
export async function mreHistogram(
  file: string,
  title: string,
  mres: number[],
  marks: { label: string; mre: number }[],
): Promise<void> {
  await render(
    {
      title,
      width: 480,
      height: 260,
      layer: [
        {
          data: { values: mres.map((mre) => ({ mre })) },
          mark: { type: 'bar', color: '#8da0cb' },
          encoding: {
            x: { field: 'mre', type: 'quantitative', bin: { maxbins: 30 }, title: 'MRE on Test1 (mm)' },
            y: { aggregate: 'count', type: 'quantitative', title: 'templates' },
          },
        },
        {
          data: { values: marks },
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            x: { field: 'mre', type: 'quantitative' },
            color: { field: 'label', type: 'nominal', title: null },
          },
        },
      ],
    },
    file,
  );
}

/** The paper's Fig. 6: representativeness against MRE, one dot per template (set). */
export async function scoreScatter(
  file: string,
  title: string,
  points: { score: number; mre: number; picked: boolean }[],
): Promise<void> {
  await render(
    {
      title,
      width: 480,
      height: 320,
      data: { values: points.map((p) => ({ ...p, kind: p.picked ? 'selected' : 'other' })) },
      mark: { type: 'point', filled: true },
      encoding: {
        x: { field: 'score', type: 'quantitative', scale: { zero: false }, title: 'representativeness R' },
        y: { field: 'mre', type: 'quantitative', scale: { zero: false }, title: 'MRE on Test1 (mm)' },
        color: {
          field: 'kind',
          title: null,
          scale: { domain: ['other', 'selected'], range: ['#66c2a5', '#d62728'] },
        },
        size: { condition: { test: 'datum.picked', value: 120 }, value: 30 },
      },
    },
    file,
  );
}

/** Per-landmark MRE of a few template sets side by side. */
export async function landmarkBars(
  file: string,
  title: string,
  rows: { landmark: string; set: string; mre: number }[],
): Promise<void> {
  await render(
    {
      title,
      width: 520,
      height: 260,
      data: { values: rows },
      mark: 'bar',
      encoding: {
        x: { field: 'landmark', type: 'nominal', sort: null, title: null, axis: { labelAngle: -45 } },
        xOffset: { field: 'set' },
        y: { field: 'mre', type: 'quantitative', title: 'MRE (mm)' },
        color: { field: 'set', title: 'templates' },
      },
    },
    file,
  );
}

/** MRE against the number of labels: one line per method, selection and random draws as separate marks. */
export async function labelCurve(
  file: string,
  title: string,
  points: { labels: number; mre: number; method: string; from: 'selection' | 'random draw' | 'baseline' }[],
): Promise<void> {
  await render(
    {
      title,
      width: 480,
      height: 300,
      data: { values: points },
      layer: [
        {
          transform: [{ filter: "datum.from === 'selection'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'labels',
              type: 'quantitative',
              scale: { type: 'log', nice: false },
              title: 'labeled images',
            },
            y: { field: 'mre', type: 'quantitative', scale: { zero: false }, title: 'MRE (mm)' },
            color: { field: 'method', type: 'nominal', title: null },
          },
        },
        ...(['random draw', 'baseline'] as const).map((from) => ({
          transform: [{ filter: `datum.from === '${from}'` }],
          mark: {
            type: 'point' as const,
            shape: from === 'baseline' ? 'diamond' : 'cross',
            size: 70,
            opacity: 0.8,
          },
          encoding: {
            x: { field: 'labels', type: 'quantitative' as const },
            y: { field: 'mre', type: 'quantitative' as const },
            color: { field: 'method', type: 'nominal' as const, title: null },
          },
        })),
      ],
    },
    file,
  );
}
