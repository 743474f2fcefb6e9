// CL-Detection 2023 JSON (.cldetection.json): the grand-challenge "Multiple
// points" file the challenge uses for its training labels (train-gt.json)
// and its predictions (orthodontic-landmarks.json):
//   {"name": ..., "type": "Multiple points",
//    "points": [{"name": "1", "point": [x, y, z], "scale": 0.1}, ...],
//    "version": {"major": 1, "minor": 0}}
// Layout as in the organisers' baseline, github.com/szuboy/CL-Detection2023
// (step1_preprocessing.py reads train-gt.json, step5_docker_and_upload/
// process.py writes predictions, test/expected_output.json is an example).
//
// z is the image's 1-based index in the challenge's image stack, so the
// image id is that index ('1', '2', ...) and writing needs ids of that form.
// "name" is the landmark name ('1'..'38' in the challenge). "scale" is the
// pixel spacing in mm, the same along x and y; it is only in the labels, so
// it is read when present and written when the image has a spacing.
// x, y are pixel indices (the baseline draws them as array indices), i.e.
// fewmark's own convention. The format cannot say "missing": a missing
// landmark has no entry, and an image with no landmark at all is not written.
import { DataError } from '../errors.js';
import { type AnnotatedImage, type Annotations, isMissing, type Point } from '../types.js';
import { checkWritable, isFiniteNumber, isObject, orderedNames, parseJson, shown } from './shared.js';

const STACK_INDEX = /^[1-9]\d*$/;

export function formatClDetection(ann: Annotations): string {
  checkWritable(ann, 'formatClDetection');
  const points = ann.images.flatMap((img) => {
    if (!STACK_INDEX.test(img.image))
      throw new Error(
        `formatClDetection: image '${img.image}' is not a stack index; CL-Detection JSON names images by their 1-based position in the image stack (1, 2, ...)`,
      );
    const s = img.spacing;
    if (s && s.x !== s.y)
      throw new Error(
        `formatClDetection: image '${img.image}' has spacing ${s.x} x ${s.y} mm; CL-Detection keeps one scale for both axes`,
      );
    const z = Number(img.image);
    return img.points.flatMap((p, k) =>
      isMissing(p) ? [] : [{ name: ann.names[k], point: [p.x, p.y, z], ...(s && { scale: s.x }) }],
    );
  });
  const file = {
    name: 'Orthodontic landmarks',
    type: 'Multiple points',
    points,
    version: { major: 1, minor: 0 },
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

export function parseClDetection(text: string, source: string): Annotations {
  const json = parseJson(text, source);
  function fail(problem: string): never {
    throw new DataError(source, problem);
  }
  if (!isObject(json) || !Array.isArray(json.points))
    fail("not a CL-Detection file: expected an object with a 'points' list");

  // Stack index -> the image and its landmarks in file order.
  interface Entry {
    image: AnnotatedImage;
    points: Map<string, Point>;
  }
  const byIndex = new Map<number, Entry>();
  for (const [i, raw] of (json.points as unknown[]).entries()) {
    const where = `points[${i}]`;
    if (!isObject(raw)) fail(`${where} is not an object`);
    const p = raw.point;
    if (!(Array.isArray(p) && p.length === 3))
      fail(`${where}: point is ${shown(p)}, expected [x, y, image index]`);
    const [x, y, z] = p as unknown[];
    if (!(Number.isInteger(z) && (z as number) >= 1))
      fail(`${where}: point[2] (the image index) is ${shown(z)}, expected 1, 2, ...`);
    const at = `image '${z}' (${where})`;
    const name = typeof raw.name === 'number' ? String(raw.name) : raw.name;
    if (typeof name !== 'string' || name === '')
      fail(`${at}: name is ${shown(raw.name)}, expected the landmark name`);
    if (!isFiniteNumber(x)) fail(`${at}: point[0] (landmark '${name}' x) is ${shown(x)}, not a number`);
    if (!isFiniteNumber(y)) fail(`${at}: point[1] (landmark '${name}' y) is ${shown(y)}, not a number`);

    const entry: Entry = byIndex.get(z as number) ?? {
      image: { image: String(z), points: [] },
      points: new Map(),
    };
    byIndex.set(z as number, entry);
    if (entry.points.has(name)) fail(`${at}: landmark '${name}' appears twice`);
    entry.points.set(name, { x: x as number, y: y as number });

    if (raw.scale === undefined) continue;
    if (!(isFiniteNumber(raw.scale) && raw.scale > 0))
      fail(`${at}: scale is ${shown(raw.scale)}, expected the pixel spacing in mm`);
    const known = entry.image.spacing;
    if (known && known.x !== raw.scale)
      fail(`${at}: scale ${raw.scale} differs from this image's earlier scale ${known.x}`);
    entry.image.spacing = { x: raw.scale as number, y: raw.scale as number, source: 'file' };
  }

  const names = orderedNames([...byIndex.values()].map((e) => [...e.points.keys()]));
  const images = [...byIndex.values()].map(({ image, points }) => ({
    ...image,
    points: names.map((name) => points.get(name) ?? { x: Number.NaN, y: Number.NaN }),
  }));
  return { names, images };
}
