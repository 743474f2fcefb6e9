// COCO keypoints JSON: images, one annotation per image whose keypoints
// are x,y,v triples in the order of one category's keypoint names.
//
// Pixel convention: COCO coordinates here have their origin at the
// top-left CORNER of the image, so a COCO x is fewmark's x + 0.5 (the centre
// of the first pixel is 0.5). Annotation tools such as CVAT write COCO
// keypoints in that continuous image space, and it keeps our CVAT and COCO
// exports of one annotation identical. (detectron2 reads the original COCO
// keypoints as integer pixel indices instead, i.e. fewmark's convention;
// subtract 0.5 after reading a file made that way.)
//
// v = 0 is a missing landmark, written 0,0,0; v = 1 (labelled, hidden) and
// v = 2 (labelled, visible) are both read as a position; we write v = 2.
// The image id is file_name without folder and image extension; fewmark
// writes the id itself as file_name, and numbers the COCO ids 1, 2, ...
import { DataError } from '../errors.js';
import { type AnnotatedImage, type Annotations, isMissing, type Point } from '../types.js';
import { checkWritable, imageIdFromFileName, isFiniteNumber, isObject, parseJson, shown } from './shared.js';

const CORNER_OFFSET = 0.5;
const CATEGORY = { id: 1, name: 'landmarks', supercategory: 'landmarks' };

export function formatCoco(ann: Annotations): string {
  checkWritable(ann, 'formatCoco');
  const images = ann.images.map((img, i) => ({
    id: i + 1,
    file_name: img.image,
    ...(img.width !== undefined && { width: img.width }),
    ...(img.height !== undefined && { height: img.height }),
  }));
  const annotations = ann.images.map((img, i) => {
    const labelled = img.points.filter((p) => !isMissing(p)).map(toCoco);
    const keypoints = img.points.flatMap((p) => {
      if (isMissing(p)) return [0, 0, 0];
      const c = toCoco(p);
      return [c.x, c.y, 2];
    });
    return {
      id: i + 1,
      image_id: i + 1,
      category_id: CATEGORY.id,
      keypoints,
      num_keypoints: labelled.length,
      iscrowd: 0,
      ...boxAround(labelled),
    };
  });
  const categories = [{ ...CATEGORY, keypoints: ann.names, skeleton: [] }];
  return `${JSON.stringify({ images, annotations, categories }, null, 2)}\n`;
}

const toCoco = (p: Point): Point => ({ x: p.x + CORNER_OFFSET, y: p.y + CORNER_OFFSET });

// Training tools (mmpose, detectron2) want a bbox and area per annotation.
function boxAround(points: Point[]): { bbox: number[]; area: number } {
  if (points.length === 0) return { bbox: [0, 0, 0, 0], area: 0 };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  const [w, h] = [Math.max(...xs) - x0, Math.max(...ys) - y0];
  return { bbox: [x0, y0, w, h], area: w * h };
}

export function parseCoco(text: string, source: string): Annotations {
  const json = parseJson(text, source);
  function fail(problem: string): never {
    throw new DataError(source, problem);
  }
  if (!isObject(json)) fail('not a COCO file: the top level must be an object');
  for (const key of ['images', 'annotations', 'categories'])
    if (!Array.isArray(json[key]))
      fail(`not a COCO file: '${key}' must be an array, found ${shown(json[key])}`);

  const names = keypointNames(json.categories as unknown[], fail);

  // COCO id -> image, in file order.
  const byCocoId = new Map<unknown, AnnotatedImage>();
  const ids = new Set<string>();
  for (const [i, entry] of (json.images as unknown[]).entries()) {
    const where = `images[${i}]`;
    if (!isObject(entry)) fail(`${where} is not an object`);
    if (typeof entry.file_name !== 'string' || entry.file_name === '')
      fail(`${where}: file_name is ${shown(entry.file_name)}, expected the image's file name`);
    const image = imageIdFromFileName(entry.file_name as string);
    if (typeof entry.id !== 'number' && typeof entry.id !== 'string')
      fail(`image '${image}' (${where}): id is ${shown(entry.id)}, expected a number`);
    if (byCocoId.has(entry.id)) fail(`image '${image}' (${where}): id ${shown(entry.id)} is used twice`);
    if (ids.has(image)) fail(`image '${image}' (${where}) appears twice`);
    ids.add(image);
    const img: AnnotatedImage = { image, points: names.map(() => ({ x: Number.NaN, y: Number.NaN })) };
    for (const side of ['width', 'height'] as const) {
      const v = entry[side];
      if (v === undefined) continue;
      if (!(Number.isInteger(v) && (v as number) > 0))
        fail(`image '${image}' (${where}): ${side} is ${shown(v)}, expected a positive integer`);
      img[side] = v as number;
    }
    byCocoId.set(entry.id, img);
  }

  const annotated = new Set<AnnotatedImage>();
  for (const [i, entry] of (json.annotations as unknown[]).entries()) {
    const where = `annotations[${i}]`;
    if (!isObject(entry)) fail(`${where} is not an object`);
    const img = byCocoId.get(entry.image_id);
    if (!img) fail(`${where}: image_id ${shown(entry.image_id)} is not the id of an image in 'images'`);
    const at = `image '${img.image}' (${where})`;
    if (entry.category_id !== names.categoryId)
      fail(
        `${at}: category_id is ${shown(entry.category_id)}, expected ${names.categoryId} ('${names.name}')`,
      );
    if (annotated.has(img))
      fail(`${at}: a second keypoint annotation for this image; fewmark reads one per image`);
    annotated.add(img);
    const kp = entry.keypoints;
    if (!Array.isArray(kp) || kp.length !== 3 * names.length)
      fail(
        `${at}: keypoints has ${Array.isArray(kp) ? `${kp.length} values` : shown(kp)}, expected ${3 * names.length} (x,y,v for ${names.length} landmarks)`,
      );
    const values = kp as unknown[];
    values.forEach((v, j) => {
      if (!isFiniteNumber(v))
        fail(`${at}: keypoints[${j}] (landmark '${names[Math.floor(j / 3)]}') is ${shown(v)}, not a number`);
    });
    img.points = names.map((name, k) => {
      const [x, y, v] = values.slice(3 * k, 3 * k + 3) as number[];
      if (v === 0) return { x: Number.NaN, y: Number.NaN };
      if (v !== 1 && v !== 2)
        fail(`${at}: keypoints[${3 * k + 2}] (landmark '${name}' visibility) is ${v}, expected 0, 1 or 2`);
      return { x: x! - CORNER_OFFSET, y: y! - CORNER_OFFSET };
    });
  }
  return { names: [...names], images: [...byCocoId.values()] };
}

type KeypointNames = string[] & { categoryId: unknown; name: string };
type Fail = (problem: string) => never;

/** The one category with keypoint names; other categories (boxes, ...) are allowed but unused. */
function keypointNames(categories: unknown[], fail: Fail): KeypointNames {
  const withKeypoints = categories.filter((c) => isObject(c) && c.keypoints !== undefined) as Record<
    string,
    unknown
  >[];
  if (withKeypoints.length !== 1)
    fail(`expected one category with 'keypoints' (the landmark names), found ${withKeypoints.length}`);
  const category = withKeypoints[0]!;
  const where = `categories[${categories.indexOf(category)}]`;
  const list = category.keypoints;
  if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === 'string' && n !== ''))
    fail(`${where}: keypoints must be a non-empty list of landmark names, found ${shown(list)}`);
  const names = list as string[];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) fail(`${where}: landmark name '${twice}' appears twice in keypoints`);
  return Object.assign([...names], { categoryId: category.id, name: String(category.name) });
}
