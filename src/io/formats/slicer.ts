// 3D Slicer markups JSON (.mrk.json, schema markups-schema-v1.0.3): one
// "Fiducial" markups node per image, named by the image id, with one
// control point per landmark whose label is the landmark name.
//
// Positions are physical millimetres. A 2-D image sits in physical space
// with its origin (the centre of the top-left pixel) at 0 and its rows and
// columns along the first two axes, as ITK and so Slicer place a PNG:
//   physical x = x_px * spacing.x, physical y = y_px * spacing.y, z = 0,
// in LPS (x towards the patient's left, y towards posterior). Files in RAS
// are read by negating x and y; z is ignored on reading.
//
// The pixel spacing needed to get back to pixels is kept in a fewmark key
// of the node, "fewmark": {"pixelSpacing": [x, y], "width", "height"};
// Slicer ignores it. Slicer drops unknown keys when it saves a file again;
// a node without spacing is read at 1 mm per pixel (what Slicer gives PNG
// and JPEG images) and its image gets no spacing.
//
// A missing landmark is a control point with positionStatus "undefined";
// "preview" points (being placed, not confirmed) are read as missing too.
import { DataError } from '../errors.js';
import { type AnnotatedImage, type Annotations, isMissing, type Point } from '../types.js';
import { checkWritable, isFiniteNumber, isObject, orderedNames, parseJson, shown } from './shared.js';

const SCHEMA =
  'https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#';

export function formatSlicerMarkups(ann: Annotations): string {
  checkWritable(ann, 'formatSlicerMarkups');
  const markups = ann.images.map((img) => {
    const s = img.spacing;
    if (!s)
      throw new Error(
        `formatSlicerMarkups: image '${img.image}' has no pixel spacing; Slicer positions are in mm, so writing needs one`,
      );
    return {
      type: 'Fiducial',
      coordinateSystem: 'LPS',
      coordinateUnits: 'mm',
      name: img.image,
      locked: false,
      labelFormat: '%N-%d',
      controlPoints: img.points.map((p, k) => ({
        id: String(k + 1),
        label: ann.names[k],
        position: isMissing(p) ? [0, 0, 0] : [p.x * s.x, p.y * s.y, 0],
        positionStatus: isMissing(p) ? 'undefined' : 'defined',
      })),
      fewmark: {
        pixelSpacing: [s.x, s.y],
        ...(img.width !== undefined && { width: img.width }),
        ...(img.height !== undefined && { height: img.height }),
      },
    };
  });
  return `${JSON.stringify({ '@schema': SCHEMA, markups }, null, 2)}\n`;
}

type Fail = (problem: string) => never;

interface ReadNode {
  image: AnnotatedImage;
  /** Landmark name -> position in pixels, in file order. */
  points: Map<string, Point>;
}

export function parseSlicerMarkups(text: string, source: string): Annotations {
  const json = parseJson(text, source);
  function fail(problem: string): never {
    throw new DataError(source, problem);
  }
  if (!isObject(json) || !Array.isArray(json.markups))
    fail("not a Slicer markups file: expected an object with a 'markups' list");
  const seen = new Set<string>();
  const nodes = (json.markups as unknown[]).map((raw, i) => {
    const node = readNode(raw, `markups[${i}]`, fail);
    if (seen.has(node.image.image)) fail(`image '${node.image.image}' (markups[${i}]) appears twice`);
    seen.add(node.image.image);
    return node;
  });
  const names = orderedNames(nodes.map((n) => [...n.points.keys()]));
  const images = nodes.map(({ image, points }) => ({
    ...image,
    points: names.map((name) => points.get(name) ?? { x: Number.NaN, y: Number.NaN }),
  }));
  return { names, images };
}

function readNode(raw: unknown, where: string, fail: Fail): ReadNode {
  if (!isObject(raw)) fail(`${where} is not an object`);
  if (typeof raw.name !== 'string' || raw.name === '')
    fail(`${where}: name is ${shown(raw.name)}, expected the image id`);
  const at = `image '${raw.name}' (${where})`;
  if (raw.type !== 'Fiducial') fail(`${at}: type is ${shown(raw.type)}, expected "Fiducial"`);

  const system = raw.coordinateSystem ?? 'LPS';
  if (system !== 'LPS' && system !== 'RAS')
    fail(`${at}: coordinateSystem is ${shown(system)}, expected "LPS" or "RAS"`);
  const units = Array.isArray(raw.coordinateUnits) ? raw.coordinateUnits[0] : (raw.coordinateUnits ?? 'mm');
  if (units !== 'mm' && units !== 'um')
    fail(`${at}: coordinateUnits is ${shown(units)}, expected "mm" or "um"`);
  // Signs and scale from the file's axes and units to LPS millimetres.
  const sign = system === 'RAS' ? -1 : 1;
  const toMm = units === 'um' ? 1e-3 : 1;

  const image: AnnotatedImage = { image: raw.name as string, points: [] };
  const extra = raw.fewmark;
  if (extra !== undefined) {
    if (!isObject(extra)) fail(`${at}: fewmark is ${shown(extra)}, expected an object`);
    const s = extra.pixelSpacing;
    if (s !== undefined) {
      if (!(Array.isArray(s) && s.length === 2 && s.every((v) => isFiniteNumber(v) && v > 0)))
        fail(`${at}: fewmark.pixelSpacing is ${shown(s)}, expected [x, y] in mm per pixel`);
      image.spacing = { x: s[0] as number, y: s[1] as number, source: 'file' };
    }
    for (const side of ['width', 'height'] as const) {
      const v = extra[side];
      if (v === undefined) continue;
      if (!(Number.isInteger(v) && (v as number) > 0))
        fail(`${at}: fewmark.${side} is ${shown(v)}, expected a positive integer`);
      image[side] = v as number;
    }
  }
  const spacing = image.spacing ?? { x: 1, y: 1 };

  const list = raw.controlPoints ?? [];
  if (!Array.isArray(list)) fail(`${at}: controlPoints is ${shown(list)}, expected a list`);
  const points = new Map<string, Point>();
  for (const [j, cp] of list.entries()) {
    const field = `controlPoints[${j}]`;
    if (!isObject(cp)) fail(`${at}: ${field} is not an object`);
    if (typeof cp.label !== 'string' || cp.label === '')
      fail(`${at}: ${field}.label is ${shown(cp.label)}, expected the landmark name`);
    const name = cp.label as string;
    if (points.has(name)) fail(`${at}: ${field}: landmark '${name}' appears twice`);
    const status = cp.positionStatus ?? 'defined';
    if (status !== 'defined' && status !== 'undefined' && status !== 'preview')
      fail(
        `${at}: ${field}.positionStatus is ${shown(status)}, expected "defined", "undefined" or "preview"`,
      );
    if (status !== 'defined') {
      points.set(name, { x: Number.NaN, y: Number.NaN });
      continue;
    }
    const pos = cp.position;
    if (!(Array.isArray(pos) && pos.length === 3 && pos.every(isFiniteNumber)))
      fail(`${at}: ${field}.position (landmark '${name}') is ${shown(pos)}, expected [x, y, z] numbers`);
    const [x, y] = pos as number[];
    points.set(name, { x: (sign * x! * toMm) / spacing.x, y: (sign * y! * toMm) / spacing.y });
  }
  return { image, points };
}
