// CVAT for images 1.1 XML: <image name=...> elements holding one
// <points label="NAME" points="x,y"/> per labelled landmark; a missing
// landmark has no element. The landmark names are the task's labels
// (<meta><task|project|job><labels>) when the file lists them, else the
// labels in the order the points use them. Shapes other than <points>
// (boxes, polygons, ...) are ignored.
//
// Pixel convention: CVAT's canvas puts the origin at the top-left CORNER of
// the image, so a CVAT x is fewmark's x + 0.5 (the same as our COCO files).
// The image id is the name attribute without folder and image extension.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { DataError } from '../errors.js';
import { type AnnotatedImage, type Annotations, isMissing, type Point } from '../types.js';
import { checkWritable, decimal, imageIdFromFileName, lineAt, orderedNames } from './shared.js';

const CORNER_OFFSET = 0.5;

// Elements that may repeat, as paths, so one of them still parses to a list.
const LISTS = new Set([
  'annotations.image',
  'annotations.image.points',
  'annotations.meta.task.labels.label',
  'annotations.meta.project.labels.label',
  'annotations.meta.job.labels.label',
]);

export function formatCvat(ann: Annotations): string {
  checkWritable(ann, 'formatCvat');
  const labels = ann.names.map((name) => ({ name, type: 'points', attributes: '' }));
  const image = ann.images.map((img, i) => ({
    '@_id': i,
    '@_name': img.image,
    ...(img.width !== undefined && { '@_width': img.width }),
    ...(img.height !== undefined && { '@_height': img.height }),
    points: img.points.flatMap((p, k) =>
      isMissing(p)
        ? []
        : [
            {
              '@_label': ann.names[k],
              '@_source': 'manual',
              '@_occluded': 0,
              '@_points': `${p.x + CORNER_OFFSET},${p.y + CORNER_OFFSET}`,
              '@_z_order': 0,
            },
          ],
    ),
  }));
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    format: true,
    indentBy: '  ',
    suppressEmptyNode: true,
  });
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'utf-8' },
    annotations: { version: '1.1', meta: { task: { labels: { label: labels } } }, image },
  });
}

type XmlNode = Record<string, unknown>;

export function parseCvat(text: string, source: string): Annotations {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new DataError(source, `not valid XML: ${valid.err.msg}`, valid.err.line);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    captureMetaData: true,
    isArray: (_name, path, _leaf, isAttribute) => !isAttribute && LISTS.has(String(path)),
  });
  let doc: XmlNode;
  try {
    // The validator passes some documents the parser then rejects (an unclosed <?pi, say).
    doc = parser.parse(text) as XmlNode;
  } catch (err) {
    throw new DataError(source, `not valid XML: ${(err as Error).message}`);
  }
  const meta = XMLParser.getMetaDataSymbol() as unknown as string;
  const lineOf = (node: XmlNode) => {
    const start = (node[meta] as { startIndex?: number } | undefined)?.startIndex;
    return start === undefined ? undefined : lineAt(text, start);
  };
  function fail(problem: string, node?: XmlNode): never {
    throw new DataError(source, problem, node && lineOf(node));
  }

  const root = doc.annotations;
  // An empty <annotations></annotations> parses to '': a file with no images.
  if (root === '') return { names: [], images: [] };
  if (typeof root !== 'object' || root === null) fail('not a CVAT for images file: no <annotations> element');
  const annotations = root as XmlNode;
  const declared = declaredLabels(annotations.meta, fail);

  const seen = new Set<string>();
  const read: { image: AnnotatedImage; points: Map<string, Point> }[] = [];
  for (const node of (annotations.image as XmlNode[] | undefined) ?? []) {
    if (typeof node.name !== 'string' || node.name === '')
      fail('<image> has no name attribute (the image file name)', node);
    const id = imageIdFromFileName(node.name as string);
    const at = `image '${id}'`;
    if (seen.has(id)) fail(`${at} appears twice`, node);
    seen.add(id);
    const image: AnnotatedImage = { image: id, points: [] };
    for (const side of ['width', 'height'] as const) {
      if (node[side] === undefined) continue;
      const v = decimal(String(node[side]));
      if (v === undefined || !Number.isInteger(v) || v <= 0)
        fail(`${at}: ${side}="${node[side]}" is not a positive integer`, node);
      image[side] = v;
    }
    const points = new Map<string, Point>();
    for (const el of (node.points as XmlNode[] | undefined) ?? []) {
      const label = el.label;
      if (typeof label !== 'string' || label === '') fail(`${at}: <points> has no label`, el);
      const name = label as string;
      if (declared && !declared.includes(name))
        fail(`${at}: unknown landmark '${name}' (the labels are ${declared.join(', ')})`, el);
      if (points.has(name)) fail(`${at}: landmark '${name}' appears twice`, el);
      points.set(name, pointOf(el, `${at} landmark '${name}'`, fail));
    }
    read.push({ image, points });
  }

  const names = declared ?? orderedNames(read.map((r) => [...r.points.keys()]));
  const images = read.map(({ image, points }) => ({
    ...image,
    points: names.map((name) => points.get(name) ?? { x: Number.NaN, y: Number.NaN }),
  }));
  return { names, images };
}

function pointOf(el: XmlNode, what: string, fail: (problem: string, node?: XmlNode) => never): Point {
  const raw = el.points;
  if (typeof raw !== 'string') fail(`${what}: <points> has no points attribute`, el);
  const pairs = raw.split(';');
  if (pairs.length !== 1)
    fail(`${what}: points="${raw}" holds ${pairs.length} points; a landmark is one point`, el);
  const xy = pairs[0]!.split(',');
  const x = xy.length === 2 ? decimal(xy[0]!) : undefined;
  const y = xy.length === 2 ? decimal(xy[1]!) : undefined;
  if (x === undefined || y === undefined) fail(`${what}: points="${raw}" is not x,y numbers`, el);
  return { x: x - CORNER_OFFSET, y: y - CORNER_OFFSET };
}

/** The label names <meta> declares for points (or any shape), or undefined when it declares none. */
function declaredLabels(
  meta: unknown,
  fail: (problem: string, node?: XmlNode) => never,
): string[] | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const owner = ['task', 'project', 'job']
    .map((key) => (meta as XmlNode)[key])
    .find((v) => typeof v === 'object' && v !== null && (v as XmlNode).labels) as XmlNode | undefined;
  const labels = (owner?.labels as XmlNode | undefined)?.label as XmlNode[] | undefined;
  if (!labels || labels.length === 0) return undefined;
  const names: string[] = [];
  for (const label of labels) {
    const type = label.type;
    if (type !== undefined && type !== 'points' && type !== 'any') continue;
    if (typeof label.name !== 'string' || label.name === '') fail('a <label> in <meta> has no <name>', label);
    if (names.includes(label.name as string))
      fail(`label '${label.name}' is declared twice in <meta>`, label);
    names.push(label.name as string);
  }
  return names.length > 0 ? names : undefined;
}
