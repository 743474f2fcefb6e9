// The selection experiment's outputs: a Markdown report with the tables
// the issue asks for, two figures (the paper's Figs. 1 and 6) and the raw
// results as JSON.
import { join } from 'node:path';
import { mreHistogram, scoreScatter } from '../eval/plots.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { SelectionExperimentResult } from './selection-experiment.js';
import { pearson, spearman } from './stats.js';

const f3 = (v: number) => v.toFixed(3);
const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(0)}%`;

function renderSelectionReport(r: SelectionExperimentResult, header: string[]): string {
  const singles = r.budgets.find((b) => b.m === 1);
  const lines = [
    '# Which images to label — selection experiment on ISBI 2015',
    '',
    ...header,
    '',
    `Pool: ${r.pool} training images (candidates and represented images); targets: ${r.targetSet === 'train' ? `the ${r.targets} pool images themselves, each set's templates left out (a validation run: options are chosen here, not on Test1)` : `${r.targets} Test1 images`}, mean of the two doctors; errors in mm at original resolution. Several templates are fused by ${r.fusion === 'median' ? 'the coordinate-wise median of their predictions' : 'the highest peak per landmark (paper eq. 3)'}. Random sets: every candidate for M = 1, otherwise distinct seeded random sets; "rank" counts the random sets (or candidates) with a lower MRE, plus one.`,
    '',
    '## SCP against random templates and the baselines',
    '',
    '| M | SCP pick | R | MRE mm | random MRE mean ± std | best | worst | rank of pick | vs mean | k-center | TypiClust | k-means medoids |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.budgets.map((b) => {
      const base = (name: string) => f3(b.baselines[name]!.mre);
      return `| ${b.m} | ${b.pick.join(', ')} | ${b.score.toFixed(4)} | **${f3(b.mre)}** | ${f3(b.random.mean)} ± ${f3(b.random.std)} | ${f3(b.random.best)} | ${f3(b.random.worst)} | ${b.rank} of ${b.random.count + 1} (top ${pct(b.rank, b.random.count + 1)}) | ${(((b.mre - b.random.mean) / b.random.mean) * 100).toFixed(1)}% | ${base('k-center')} | ${base('typiclust')} | ${base('k-means medoids')} |`;
    }),
    '',
    'Paper (Table 1, VGG19, GPU): M=1 3.083 mm against 3.595 ± 0.381 random; M=5 2.571 against 2.850 ± 0.141.',
    '',
    'Fusing several templates, mean MRE (mm) of the same random sets under each rule:',
    '',
    '| M | max peak (eq. 3) | coordinate-wise median |',
    '|---:|---:|---:|',
    ...r.budgets
      .filter((b) => b.m > 1)
      .map((b) => `| ${b.m} | ${f3(b.fusionMeans['max-peak'])} | ${f3(b.fusionMeans.median)} |`),
    '',
  ];
  if (singles) {
    const scores = r.singles.map((s) => s.score);
    const mres = r.singles.map((s) => s.mre);
    lines.push(
      `Over all ${r.singles.length} single templates, R({j}) against one-shot MRE: Pearson ${f3(pearson(scores, mres))}, Spearman ${f3(spearman(scores, mres))} (paper: -0.675). Figures: fig1-mre-histogram.svg, fig6-score-vs-mre.svg.`,
      '',
    );
  }
  lines.push(
    '## Search: greedy + swap against the best of many random sets',
    '',
    '| M | greedy R | s | greedy + swap R | s | best random R | sets | s | greedy + swap ≥ random | time ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...r.search.map(
      (s) =>
        `| ${s.m} | ${s.greedy.score.toFixed(5)} | ${s.greedy.seconds.toFixed(3)} | ${s.greedySwap.score.toFixed(5)} | ${s.greedySwap.seconds.toFixed(3)} | ${s.random.score.toFixed(5)} | ${s.random.sets} | ${s.random.seconds.toFixed(1)} | ${s.greedySwap.score >= s.random.score - 1e-7 ? 'yes' : 'NO'} | ${(s.greedySwap.seconds / s.random.seconds).toFixed(4)} |`,
    ),
    '',
    'Greedy marginal gains: ' +
      r.search.map((s) => `M=${s.m}: ${s.greedy.gains.map((g) => g.toFixed(4)).join(', ')}`).join('; '),
    '',
    '## Direction of the score',
    '',
    '| direction | tensor s | Pearson (R vs MRE, singles) | Spearman | picks: MRE mm (rank) |',
    '|---|---:|---:|---:|---|',
    ...r.directions.map(
      (d) =>
        `| ${d.direction} | ${d.seconds.toFixed(1)} | ${f3(d.pearson)} | ${f3(d.spearman)} | ${d.picks.map((p) => `M=${p.m}: ${f3(p.mre)} (${p.rank}/${p.of})`).join('; ')} |`,
    ),
    '',
  );
  if (r.ablation.length) {
    const m = r.budgets.at(-1)!.m;
    lines.push(
      `## Key point ablation (M=${m}; paper Tables 4-5)`,
      '',
      '| key points | K | mean per image | pick | R | MRE mm | rank | s |',
      '|---|---:|---:|---|---:|---:|---:|---:|',
      ...r.ablation.map(
        (a) =>
          `| ${a.method} | ${a.k} | ${a.meanKeypoints.toFixed(0)} | ${a.pick.join(', ')} | ${a.score.toFixed(4)} | ${f3(a.mre)} | ${a.rank}/${a.of} | ${a.seconds.toFixed(1)} |`,
      ),
      '',
    );
  }
  lines.push(
    '## Timings (s)',
    '',
    Object.entries(r.timings)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', '),
    '',
  );
  return lines.join('\n');
}

export async function writeSelectionOutputs(
  r: SelectionExperimentResult,
  out: string,
  header: string[],
): Promise<void> {
  const singles = r.budgets.find((b) => b.m === 1);
  if (singles) {
    await mreHistogram(
      join(out, 'fig1-mre-histogram.svg'),
      `One-shot MRE over the ${r.singles.length} possible templates`,
      r.singles.map((s) => s.mre),
      [
        { label: `SCP pick ${singles.pick[0]}`, mre: singles.mre },
        { label: 'mean of random', mre: singles.random.mean },
      ],
    );
    await scoreScatter(
      join(out, 'fig6-score-vs-mre.svg'),
      `R({j}) vs one-shot MRE (Pearson ${pearson(
        r.singles.map((s) => s.score),
        r.singles.map((s) => s.mre),
      ).toFixed(3)})`,
      r.singles.map((s) => ({ score: s.score, mre: s.mre, picked: s.id === singles.pick[0] })),
    );
  }
  const top = r.budgets.at(-1);
  if (top && top.m > 1) {
    await scoreScatter(
      join(out, `score-vs-mre-m${top.m}.svg`),
      `R(S) vs few-shot MRE, ${top.randomMres.length} random sets of ${top.m} (Pearson ${pearson(top.randomScores, top.randomMres).toFixed(3)})`,
      [
        ...top.randomScores.map((score, i) => ({ score, mre: top.randomMres[i]!, picked: false })),
        { score: top.score, mre: top.mre, picked: true },
      ],
    );
  }
  await writeFileAtomic(join(out, 'report.md'), renderSelectionReport(r, header));
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify(r, null, 1));
}
