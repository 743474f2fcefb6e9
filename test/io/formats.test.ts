// Landmark formats: a round trip through every format, hand-written files
// read to hand-computed points, and the exact errors bad files give.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DataError } from '../../src/io/errors.js';
import {
  type FileFormat,
  formatByName,
  formatForPath,
  readAnnotations,
  writeAnnotations,
} from '../../src/io/formats/index.js';
import type { AnnotatedImage, Annotations, Point, Spacing } from '../../src/io/types.js';

const NAN = Number.NaN;
const tempDir = () => mkdtempSync(join(tmpdir(), 'fewmark-formats-'));
const fileFormat = (name: string) => formatByName(name) as FileFormat;
const parse = (format: string, text: string, source: string) => fileFormat(format).parse(text, source);

/** Points equal to 1e-9, NaN only where NaN is expected. */
function assertPoints(actual: Point[], expected: Point[], what: string) {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} points, expected ${expected.length}`,
  );
  expected.forEach((e, k) => {
    const a = actual[k]!;
    for (const axis of ['x', 'y'] as const) {
      const ok = Number.isNaN(e[axis]) ? Number.isNaN(a[axis]) : Math.abs(a[axis] - e[axis]) <= 1e-9;
      assert.ok(ok, `${what} point ${k} ${axis}: got ${a[axis]}, expected ${e[axis]}`);
    }
  });
}

function assertImages(actual: AnnotatedImage[], expected: Partial<AnnotatedImage>[]) {
  assert.deepEqual(
    actual.map((a) => a.image),
    expected.map((e) => e.image),
  );
  expected.forEach((e, i) => {
    const a = actual[i]!;
    if (e.points) assertPoints(a.points, e.points, `image ${e.image}`);
    for (const key of ['width', 'height', 'spacing'] as const)
      if (key in e) assert.deepEqual(a[key], e[key], `image ${e.image} ${key}`);
  });
}

/** The error a call throws must be a DataError with exactly this message. */
function assertDataError(run: () => unknown, message: string) {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
    assert.equal(err.message, message);
    return true;
  });
}

async function assertDataErrorAsync(run: () => Promise<unknown>, message: string) {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
    assert.equal(err.message, message);
    return true;
  });
}

// Ids are stack indices so that CL-Detection can hold them too.
const SAMPLE: Annotations = {
  names: ['Sella', 'Nasion', 'Orbitale', 'Porion'],
  images: [
    {
      image: '7',
      points: [
        { x: 10.25, y: 20.5 },
        { x: 0.1 + 0.2, y: 1 / 3 },
        { x: 300, y: 400.125 },
        { x: 0, y: 7 },
      ],
      width: 640,
      height: 480,
      spacing: { x: 0.1, y: 0.1, source: 'user' },
    },
    {
      image: '12',
      points: [
        { x: 1e-7, y: 2.75 },
        { x: NAN, y: NAN },
        { x: 123.456, y: 654.321 },
        { x: 639.5, y: 479.5 },
      ],
      width: 640,
      height: 480,
      spacing: { x: 0.125, y: 0.125, source: 'dicom-pixel-spacing' },
    },
    {
      image: '103',
      points: [
        { x: 5, y: 6 },
        { x: 7.5, y: 8.5 },
        { x: 99.99, y: 0.01 },
        { x: 42, y: 24 },
      ],
      width: 1024,
      height: 768,
      spacing: { x: 0.1, y: 0.1, source: 'user' },
    },
  ],
};

interface RoundTrip {
  format: string;
  /** Path inside the temp folder; the format is told from it on reading. */
  path: string;
  keepsNames: boolean;
  keepsSize: boolean;
  keepsSpacing: boolean;
}

const ROUND_TRIPS: RoundTrip[] = [
  { format: 'wide-csv', path: 'a.csv', keepsNames: true, keepsSize: false, keepsSpacing: false },
  { format: 'long-csv', path: 'a.long.csv', keepsNames: true, keepsSize: false, keepsSpacing: false },
  { format: 'coco', path: 'a.coco.json', keepsNames: true, keepsSize: true, keepsSpacing: false },
  { format: 'slicer', path: 'a.mrk.json', keepsNames: true, keepsSize: true, keepsSpacing: true },
  { format: 'cvat', path: 'a.cvat.xml', keepsNames: true, keepsSize: true, keepsSpacing: false },
  { format: 'cvat', path: 'plain.xml', keepsNames: true, keepsSize: true, keepsSpacing: false },
  {
    format: 'cldetection',
    path: 'a.cldetection.json',
    keepsNames: true,
    keepsSize: false,
    keepsSpacing: true,
  },
  { format: 'isbi-txt', path: 'isbi', keepsNames: false, keepsSize: false, keepsSpacing: false },
];

describe('round trip through every format', () => {
  for (const c of ROUND_TRIPS)
    test(`${c.format} (${c.path})`, async () => {
      const dir = tempDir();
      const path = join(dir, c.path);
      // Folders are told by the format name when they do not exist yet.
      await writeAnnotations(path, SAMPLE, c.format === 'isbi-txt' ? 'isbi-txt' : undefined);
      const back = await readAnnotations(path);
      assert.deepEqual(back.names, c.keepsNames ? SAMPLE.names : ['L1', 'L2', 'L3', 'L4']);
      assertImages(
        back.images,
        SAMPLE.images.map((img) => ({
          image: img.image,
          points: img.points,
          width: c.keepsSize ? img.width : undefined,
          height: c.keepsSize ? img.height : undefined,
          spacing: c.keepsSpacing ? { x: img.spacing!.x, y: img.spacing!.y, source: 'file' } : undefined,
        })),
      );
      // Atomic writes leave no temporary files behind.
      const left = readdirSync(c.format === 'isbi-txt' ? path : dir);
      assert.deepEqual(
        left.filter((n) => n.endsWith('.tmp')),
        [],
      );
    });
});

describe('format detection', () => {
  test('the longest matching extension wins', () => {
    assert.equal(formatForPath('x/y.csv').name, 'wide-csv');
    assert.equal(formatForPath('x/Y.LONG.CSV').name, 'long-csv');
    assert.equal(formatForPath('a.coco.json').name, 'coco');
    assert.equal(formatForPath('a.mrk.json').name, 'slicer');
    assert.equal(formatForPath('a.cvat.xml').name, 'cvat');
    assert.equal(formatForPath('a.xml').name, 'cvat');
    assert.equal(formatForPath('a.cldetection.json').name, 'cldetection');
  });

  test('an unknown extension names the file and the known formats', () => {
    assertDataError(
      () => formatForPath('a.json'),
      'a.json: cannot tell the landmark format from the file name (known: wide-csv .csv; long-csv .long.csv; coco .coco.json; slicer .mrk.json; cvat .cvat.xml/.xml; cldetection .cldetection.json; isbi-txt (a folder))',
    );
  });

  test('an unknown format name', () => {
    assert.throws(
      () => formatByName('yaml'),
      /^Error: unknown landmark format 'yaml' \(known: wide-csv, long-csv, coco, slicer, cvat, cldetection, isbi-txt\)$/,
    );
  });

  test('an existing folder reads as isbi-txt without a format name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '001.txt'), '1,2\n');
    assert.deepEqual((await readAnnotations(dir)).names, ['L1']);
  });

  test('a missing file', async () => {
    const path = join(tempDir(), 'none.csv');
    await assertDataErrorAsync(() => readAnnotations(path), `${path}: cannot read: ENOENT`);
  });
});

describe('wide CSV', () => {
  const f = 'w.csv';
  test('reads named and numbered columns', () => {
    const named = parse('wide-csv', 'image,A_x,A_y,B_x,B_y\n001,1.5,2,,\n002,3,4,5e1,-2\n', f);
    assert.deepEqual(named.names, ['A', 'B']);
    assertImages(named.images, [
      {
        image: '001',
        points: [
          { x: 1.5, y: 2 },
          { x: NAN, y: NAN },
        ],
      },
      {
        image: '002',
        points: [
          { x: 3, y: 4 },
          { x: 50, y: -2 },
        ],
      },
    ]);
    const numbered = parse('wide-csv', 'image,x1,y1\na,1,2\n', f);
    assert.deepEqual(numbered.names, ['L1']);
  });

  test('writes numbered columns for default names and empty cells for missing points', () => {
    const text = fileFormat('wide-csv').format({
      names: ['L1', 'L2'],
      images: [
        {
          image: 'a',
          points: [
            { x: 1.5, y: 2 },
            { x: NAN, y: 3 },
          ],
        },
      ],
    });
    assert.equal(text, 'image,x1,y1,x2,y2\na,1.5,2,,\n');
  });

  const errors: [string, string, string][] = [
    [
      'header must start with image',
      'name,x1,y1\n',
      "w.csv:1: first header column must be 'image', found 'name'",
    ],
    ['odd header', 'image,x1\n', "w.csv:1: header needs x,y column pairs after 'image', found 1 columns"],
    [
      'bad column pair',
      'image,A_x,B_y\n',
      "w.csv:1: columns 'A_x','B_y' are not a landmark's x,y pair (x1,y1 or NAME_x,NAME_y)",
    ],
    ['landmark twice', 'image,A_x,A_y,A_x,A_y\n', "w.csv:1: landmark 'A' has two column pairs"],
    ['wrong landmark count', 'image,x1,y1\na,1\n', 'w.csv:2: row has 2 columns, header has 3'],
    ['non-numeric', 'image,x1,y1\na,1,abc\n', "w.csv:2: landmark L1: 'abc' is not a number"],
    ['hexadecimal is not decimal', 'image,x1,y1\na,0x10,1\n', "w.csv:2: landmark L1: '0x10' is not a number"],
    [
      'half a point',
      'image,x1,y1\na,1,\n',
      "w.csv:2: landmark L1: x is '1' but y is '' (give both or neither)",
    ],
    [
      'duplicate image (after a blank line)',
      'image,x1,y1\na,1,2\n\na,3,4\n',
      "w.csv:4: image 'a' appears twice",
    ],
    ['empty image id', 'image,x1,y1\n,1,2\n', 'w.csv:2: empty image id'],
    ['empty file', '', 'w.csv: empty file (expected a header line)'],
    [
      'malformed CSV',
      'image,x1,y1\na,"1,2\n',
      'w.csv:2: not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line 2',
    ],
  ];
  for (const [name, text, message] of errors)
    test(name, () => assertDataError(() => parse('wide-csv', text, f), message));

  test('the writer checks point counts', () => {
    assert.throws(
      () =>
        fileFormat('wide-csv').format({
          names: ['A', 'B'],
          images: [{ image: 'a', points: [{ x: 1, y: 2 }] }],
        }),
      /^Error: formatWideCsv: image 'a' has 1 points, expected 2$/,
    );
  });
});

describe('long CSV', () => {
  const f = 'l.long.csv';
  test('reads rows in any order, a missing landmark left out or empty', () => {
    const ann = parse('long-csv', 'image,landmark,x,y\na,A,1,2\na,C,5,6\nb,A,1.5,2.5\nb,B,3,4\nb,C,,\n', f);
    // B first appears after C, but goes where image b puts it: after A.
    assert.deepEqual(ann.names, ['A', 'B', 'C']);
    assertImages(ann.images, [
      {
        image: 'a',
        points: [
          { x: 1, y: 2 },
          { x: NAN, y: NAN },
          { x: 5, y: 6 },
        ],
      },
      {
        image: 'b',
        points: [
          { x: 1.5, y: 2.5 },
          { x: 3, y: 4 },
          { x: NAN, y: NAN },
        ],
      },
    ]);
  });

  test('writes one row per image and landmark', () => {
    const text = fileFormat('long-csv').format({
      names: ['A', 'B'],
      images: [
        {
          image: 'a',
          points: [
            { x: 1.25, y: 2 },
            { x: NAN, y: NAN },
          ],
        },
      ],
    });
    assert.equal(text, 'image,landmark,x,y\na,A,1.25,2\na,B,,\n');
  });

  const errors: [string, string, string][] = [
    [
      'wrong header',
      'image,name,x,y\n',
      'l.long.csv:1: header must be image,landmark,x,y, found image,name,x,y',
    ],
    ['wrong column count', 'image,landmark,x,y\na,A,1\n', 'l.long.csv:2: row has 3 columns, expected 4'],
    ['non-numeric', 'image,landmark,x,y\na,A,1,x\n', "l.long.csv:2: landmark A: 'x' is not a number"],
    [
      'duplicate image and landmark',
      'image,landmark,x,y\na,A,1,2\nb,A,1,2\na,A,3,4\n',
      "l.long.csv:4: image 'a' landmark 'A' appears twice (first on line 2)",
    ],
    ['empty landmark name', 'image,landmark,x,y\na,,1,2\n', 'l.long.csv:2: empty landmark name'],
    ['empty image id', 'image,landmark,x,y\n ,A,1,2\n', 'l.long.csv:2: empty image id'],
    ['empty file', '\n', 'l.long.csv: empty file (expected the header image,landmark,x,y)'],
  ];
  for (const [name, text, message] of errors)
    test(name, () => assertDataError(() => parse('long-csv', text, f), message));

  test('the writer checks point counts and duplicate ids', () => {
    const format = fileFormat('long-csv').format;
    assert.throws(
      () => format({ names: ['A'], images: [{ image: 'a', points: [] }] }),
      /^Error: formatLongCsv: image 'a' has 0 points, expected 1$/,
    );
    const img = { image: 'a', points: [{ x: 1, y: 1 }] };
    assert.throws(
      () => format({ names: ['A'], images: [img, img] }),
      /^Error: formatLongCsv: image 'a' appears twice$/,
    );
  });
});

describe('COCO keypoints', () => {
  const f = 'c.coco.json';
  const coco = (keypoints: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      images: [{ id: 5, file_name: 'scans/001.png', width: 100, height: 80 }],
      annotations: [{ id: 1, image_id: 5, category_id: 1, keypoints, num_keypoints: 2 }],
      categories: [{ id: 1, name: 'ceph', keypoints: ['A', 'B', 'C'], skeleton: [] }],
      ...extra,
    });

  test('keypoints are corner-origin: x - 0.5 is the pixel coordinate', () => {
    const ann = parse('coco', coco([10.5, 20.5, 2, 0, 0, 0, 3, 4.25, 1]), f);
    assert.deepEqual(ann.names, ['A', 'B', 'C']);
    assertImages(ann.images, [
      {
        image: '001',
        width: 100,
        height: 80,
        points: [
          { x: 10, y: 20 },
          { x: NAN, y: NAN },
          { x: 2.5, y: 3.75 },
        ],
      },
    ]);
  });

  test('writes x + 0.5, v = 2, and 0,0,0 for a missing landmark', () => {
    const json = JSON.parse(
      fileFormat('coco').format({
        names: ['A', 'B'],
        images: [
          {
            image: '001',
            points: [
              { x: 10, y: 20 },
              { x: NAN, y: NAN },
            ],
            width: 100,
            height: 80,
          },
        ],
      }),
    );
    assert.deepEqual(json.images, [{ id: 1, file_name: '001', width: 100, height: 80 }]);
    assert.deepEqual(json.annotations[0].keypoints, [10.5, 20.5, 2, 0, 0, 0]);
    assert.equal(json.annotations[0].num_keypoints, 1);
    assert.deepEqual(json.categories[0].keypoints, ['A', 'B']);
  });

  test('an image without an annotation has every landmark missing', () => {
    const ann = parse('coco', coco([1, 1, 2, 1, 1, 2, 1, 1, 2], { annotations: [] }), f);
    assertPoints(
      ann.images[0]!.points,
      [
        { x: NAN, y: NAN },
        { x: NAN, y: NAN },
        { x: NAN, y: NAN },
      ],
      '001',
    );
  });

  const errors: [string, string, string][] = [
    [
      'wrong landmark count',
      coco([1, 2, 2, 3, 4, 2]),
      "c.coco.json: image '001' (annotations[0]): keypoints has 6 values, expected 9 (x,y,v for 3 landmarks)",
    ],
    [
      'non-numeric',
      coco([1, 2, 2, 3, 'x', 2, 0, 0, 0]),
      `c.coco.json: image '001' (annotations[0]): keypoints[4] (landmark 'B') is "x", not a number`,
    ],
    [
      'bad visibility',
      coco([1, 2, 3, 0, 0, 0, 0, 0, 0]),
      "c.coco.json: image '001' (annotations[0]): keypoints[2] (landmark 'A' visibility) is 3, expected 0, 1 or 2",
    ],
    [
      'duplicate image',
      coco([0, 0, 0, 0, 0, 0, 0, 0, 0], {
        images: [
          { id: 5, file_name: '001.png' },
          { id: 6, file_name: 'other/001.jpg' },
        ],
      }),
      "c.coco.json: image '001' (images[1]) appears twice",
    ],
    [
      'two annotations for one image',
      coco(null, {
        annotations: [
          { image_id: 5, category_id: 1, keypoints: [0, 0, 0, 0, 0, 0, 0, 0, 0] },
          { image_id: 5, category_id: 1, keypoints: [0, 0, 0, 0, 0, 0, 0, 0, 0] },
        ],
      }),
      "c.coco.json: image '001' (annotations[1]): a second keypoint annotation for this image; fewmark reads one per image",
    ],
    [
      'unknown image id',
      coco(null, { annotations: [{ image_id: 9, category_id: 1, keypoints: [] }] }),
      "c.coco.json: annotations[0]: image_id 9 is not the id of an image in 'images'",
    ],
    [
      'unknown category',
      coco(null, { annotations: [{ image_id: 5, category_id: 2, keypoints: [] }] }),
      "c.coco.json: image '001' (annotations[0]): category_id is 2, expected 1 ('ceph')",
    ],
    [
      'landmark named twice',
      coco(null, { categories: [{ id: 1, name: 'ceph', keypoints: ['A', 'A'] }] }),
      "c.coco.json: categories[0]: landmark name 'A' appears twice in keypoints",
    ],
    [
      'no keypoint category',
      coco(null, { categories: [{ id: 1, name: 'box' }] }),
      "c.coco.json: expected one category with 'keypoints' (the landmark names), found 0",
    ],
    [
      'malformed: no categories',
      JSON.stringify({ images: [], annotations: [] }),
      "c.coco.json: not a COCO file: 'categories' must be an array, found missing",
    ],
  ];
  for (const [name, text, message] of errors)
    test(name, () => assertDataError(() => parse('coco', text, f), message));

  test('invalid JSON names the line', () => {
    assert.throws(
      () => parse('coco', '{\n  "images": [],\n}', f),
      (err: unknown) => err instanceof DataError && /^c\.coco\.json:3: not valid JSON: /.test(err.message),
    );
  });
});

describe('3D Slicer markups', () => {
  const f = 's.mrk.json';
  const node = (fields: Record<string, unknown>) => ({
    type: 'Fiducial',
    coordinateSystem: 'LPS',
    name: 'a',
    controlPoints: [],
    ...fields,
  });
  const file = (...markups: unknown[]) =>
    JSON.stringify({ '@schema': 'markups-schema-v1.0.3.json', markups });

  test('mm positions divide by the stored spacing; RAS flips x and y; um are thousandths', () => {
    const spacing = { pixelSpacing: [0.2, 0.5], width: 300, height: 200 };
    const ann = parse(
      'slicer',
      file(
        node({
          name: 'lps',
          fewmark: spacing,
          controlPoints: [
            { label: 'A', position: [2, 5, 0], positionStatus: 'defined' },
            { label: 'B', position: [0, 0, 0], positionStatus: 'undefined' },
          ],
        }),
        node({
          name: 'ras',
          coordinateSystem: 'RAS',
          fewmark: spacing,
          controlPoints: [
            { label: 'A', position: [-2, -5, 0] },
            { label: 'B', position: [-0.1, -0.25, 0] },
          ],
        }),
        node({
          name: 'microns',
          coordinateUnits: 'um',
          fewmark: spacing,
          controlPoints: [
            { label: 'B', position: [2000, 5000, 0] },
            { label: 'A', position: [400, 1000, 0], positionStatus: 'preview' },
          ],
        }),
        // Without fewmark spacing: 1 mm per pixel, and no spacing on the image.
        node({ name: 'plain', controlPoints: [{ label: 'A', position: [3, 4, 0] }] }),
      ),
      f,
    );
    assert.deepEqual(ann.names, ['A', 'B']);
    const spacingRead: Spacing = { x: 0.2, y: 0.5, source: 'file' };
    assertImages(ann.images, [
      {
        image: 'lps',
        spacing: spacingRead,
        width: 300,
        points: [
          { x: 10, y: 10 },
          { x: NAN, y: NAN },
        ],
      },
      {
        image: 'ras',
        spacing: spacingRead,
        points: [
          { x: 10, y: 10 },
          { x: 0.5, y: 0.5 },
        ],
      },
      {
        image: 'microns',
        spacing: spacingRead,
        points: [
          { x: NAN, y: NAN },
          { x: 10, y: 10 },
        ],
      },
      {
        image: 'plain',
        spacing: undefined,
        points: [
          { x: 3, y: 4 },
          { x: NAN, y: NAN },
        ],
      },
    ]);
  });

  test('writes LPS mm positions and marks a missing landmark undefined', () => {
    const json = JSON.parse(
      fileFormat('slicer').format({
        names: ['A', 'B'],
        images: [
          {
            image: 'a',
            points: [
              { x: 10, y: 10 },
              { x: NAN, y: NAN },
            ],
            spacing: { x: 0.2, y: 0.5, source: 'user' },
          },
        ],
      }),
    );
    assert.match(json['@schema'], /markups-schema-v1\.0\.3\.json/);
    const m = json.markups[0];
    assert.equal(m.type, 'Fiducial');
    assert.equal(m.coordinateSystem, 'LPS');
    assert.equal(m.name, 'a');
    assert.deepEqual(m.fewmark, { pixelSpacing: [0.2, 0.5] });
    assert.deepEqual(
      m.controlPoints.map((p: Record<string, unknown>) => [p.label, p.position, p.positionStatus]),
      [
        ['A', [2, 5, 0], 'defined'],
        ['B', [0, 0, 0], 'undefined'],
      ],
    );
  });

  test('writing needs a spacing for every image', () => {
    assert.throws(
      () => fileFormat('slicer').format({ names: ['A'], images: [{ image: 'b', points: [{ x: 1, y: 2 }] }] }),
      /^Error: formatSlicerMarkups: image 'b' has no pixel spacing; Slicer positions are in mm, so writing needs one$/,
    );
  });

  const errors: [string, string, string][] = [
    [
      'malformed',
      '{"markup": []}',
      "s.mrk.json: not a Slicer markups file: expected an object with a 'markups' list",
    ],
    [
      'not a fiducial',
      file(node({ type: 'Line' })),
      `s.mrk.json: image 'a' (markups[0]): type is "Line", expected "Fiducial"`,
    ],
    ['duplicate image', file(node({}), node({})), "s.mrk.json: image 'a' (markups[1]) appears twice"],
    [
      'landmark twice',
      file(
        node({
          controlPoints: [
            { label: 'A', position: [1, 2, 0] },
            { label: 'A', position: [1, 2, 0] },
          ],
        }),
      ),
      "s.mrk.json: image 'a' (markups[0]): controlPoints[1]: landmark 'A' appears twice",
    ],
    [
      'non-numeric position',
      file(node({ controlPoints: [{ label: 'A', position: ['1', 2, 0] }] })),
      `s.mrk.json: image 'a' (markups[0]): controlPoints[0].position (landmark 'A') is ["1",2,0], expected [x, y, z] numbers`,
    ],
    [
      'wrong position length',
      file(node({ controlPoints: [{ label: 'A', position: [1, 2] }] })),
      "s.mrk.json: image 'a' (markups[0]): controlPoints[0].position (landmark 'A') is [1,2], expected [x, y, z] numbers",
    ],
    [
      'no label',
      file(node({ controlPoints: [{ position: [1, 2, 0] }] })),
      "s.mrk.json: image 'a' (markups[0]): controlPoints[0].label is missing, expected the landmark name",
    ],
    [
      'bad spacing',
      file(node({ fewmark: { pixelSpacing: [0, 1] } })),
      "s.mrk.json: image 'a' (markups[0]): fewmark.pixelSpacing is [0,1], expected [x, y] in mm per pixel",
    ],
    [
      'unknown coordinate system',
      file(node({ coordinateSystem: 'IJK' })),
      `s.mrk.json: image 'a' (markups[0]): coordinateSystem is "IJK", expected "LPS" or "RAS"`,
    ],
    ['no image name', file(node({ name: '' })), `s.mrk.json: markups[0]: name is "", expected the image id`],
  ];
  for (const [name, text, message] of errors)
    test(name, () => assertDataError(() => parse('slicer', text, f), message));
});

describe('CVAT for images XML', () => {
  const f = 'v.cvat.xml';
  const xml = (images: string, labels = '<label><name>A</name></label><label><name>B</name></label>') =>
    `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><labels>${labels}</labels></task></meta>
${images}
</annotations>`;

  test('points are corner-origin: x - 0.5 is the pixel coordinate; names come from the labels', () => {
    const ann = parse(
      'cvat',
      xml(
        `  <image id="0" name="dir/001.png" width="100" height="80">
    <points label="A" occluded="0" points="10.5,20.5"/>
    <box label="A" xtl="1" ytl="1" xbr="2" ybr="2"/>
  </image>
  <image id="1" name="002.png">
    <points label="B" occluded="1" points="0.5,1.25"/>
    <points label="A" points="3,4"/>
  </image>`,
        '<label><name>A</name><type>points</type></label><label><name>box</name><type>rectangle</type></label><label><name>B</name></label>',
      ),
      f,
    );
    assert.deepEqual(ann.names, ['A', 'B']);
    assertImages(ann.images, [
      {
        image: '001',
        width: 100,
        height: 80,
        points: [
          { x: 10, y: 20 },
          { x: NAN, y: NAN },
        ],
      },
      {
        image: '002',
        width: undefined,
        points: [
          { x: 2.5, y: 3.5 },
          { x: 0, y: 0.75 },
        ],
      },
    ]);
  });

  test('without labels in meta, names follow the points', () => {
    const ann = parse(
      'cvat',
      '<annotations><image id="0" name="a"><points label="P" points="1,1"/><points label="Q" points="2,2"/></image></annotations>',
      f,
    );
    assert.deepEqual(ann.names, ['P', 'Q']);
  });

  test('writes x + 0.5 and leaves a missing landmark out', () => {
    const text = fileFormat('cvat').format({
      names: ['A', 'B'],
      images: [
        {
          image: 'a&b',
          points: [
            { x: 10, y: 20 },
            { x: NAN, y: NAN },
          ],
          width: 100,
          height: 80,
        },
      ],
    });
    assert.match(text, /<label>\s*<name>A<\/name>\s*<type>points<\/type>/);
    assert.match(text, /<image id="0" name="a&amp;b" width="100" height="80">/);
    assert.match(text, /<points label="A" source="manual" occluded="0" points="10.5,20.5" z_order="0"\/>/);
    assert.doesNotMatch(text, /label="B"/);
  });

  const errors: [string, string, string][] = [
    [
      'malformed XML',
      '<annotations>\n<image name="a">\n</annotations>',
      "v.cvat.xml:3: not valid XML: Expected closing tag 'image' (opened in line 2, col 1) instead of closing tag 'annotations'.",
    ],
    ['not CVAT', '<root/>', 'v.cvat.xml: not a CVAT for images file: no <annotations> element'],
    [
      'unknown landmark name',
      xml('  <image id="0" name="a.png">\n    <points label="C" points="1,2"/>\n  </image>'),
      "v.cvat.xml:6: image 'a': unknown landmark 'C' (the labels are A, B)",
    ],
    [
      'duplicate image',
      xml('  <image id="0" name="a.png"/>\n  <image id="1" name="x/a.jpg"/>'),
      "v.cvat.xml:6: image 'a' appears twice",
    ],
    [
      'non-numeric',
      xml('  <image id="0" name="a.png">\n    <points label="A" points="1,x"/>\n  </image>'),
      `v.cvat.xml:6: image 'a' landmark 'A': points="1,x" is not x,y numbers`,
    ],
    [
      'several points for one landmark',
      xml('  <image id="0" name="a.png">\n    <points label="A" points="1,2;3,4"/>\n  </image>'),
      `v.cvat.xml:6: image 'a' landmark 'A': points="1,2;3,4" holds 2 points; a landmark is one point`,
    ],
    [
      'landmark twice',
      xml(
        '  <image id="0" name="a.png">\n    <points label="A" points="1,2"/>\n    <points label="A" points="1,2"/>\n  </image>',
      ),
      "v.cvat.xml:7: image 'a': landmark 'A' appears twice",
    ],
    [
      'bad size',
      xml('  <image id="0" name="a.png" width="wide"/>'),
      `v.cvat.xml:5: image 'a': width="wide" is not a positive integer`,
    ],
    [
      'image without name',
      xml('  <image id="0"/>'),
      'v.cvat.xml:5: <image> has no name attribute (the image file name)',
    ],
  ];
  for (const [name, text, message] of errors)
    test(name, () => assertDataError(() => parse('cvat', text, f), message));
});

describe('CL-Detection 2023 JSON', () => {
  const f = 'd.cldetection.json';
  const file = (points: unknown[]) =>
    JSON.stringify({
      name: 'Orthodontic landmarks',
      type: 'Multiple points',
      points,
      version: { major: 1, minor: 0 },
    });

  test('reads the challenge layout: image = stack index, scale = spacing', () => {
    const ann = parse(
      'cldetection',
      file([
        { name: '1', point: [831.4453125, 993.75, 1], scale: 0.1 },
        { name: '2', point: [1473.92578125, 1035.9375, 1], scale: 0.1 },
        { name: '1', point: [759.638671875, 1092.1875, 2] },
        { name: '2', point: [1337.87109375, 909.375, 2] },
        { name: '2', point: [5, 6, 3], scale: 0.125 },
      ]),
      f,
    );
    assert.deepEqual(ann.names, ['1', '2']);
    assertImages(ann.images, [
      {
        image: '1',
        spacing: { x: 0.1, y: 0.1, source: 'file' },
        points: [
          { x: 831.4453125, y: 993.75 },
          { x: 1473.92578125, y: 1035.9375 },
        ],
      },
      {
        image: '2',
        spacing: undefined,
        points: [
          { x: 759.638671875, y: 1092.1875 },
          { x: 1337.87109375, y: 909.375 },
        ],
      },
      {
        image: '3',
        spacing: { x: 0.125, y: 0.125, source: 'file' },
        points: [
          { x: NAN, y: NAN },
          { x: 5, y: 6 },
        ],
      },
    ]);
  });

  test('writes one entry per labelled landmark with the stack index as z', () => {
    const json = JSON.parse(
      fileFormat('cldetection').format({
        names: ['1', '2'],
        images: [
          {
            image: '4',
            points: [
              { x: 1.5, y: 2 },
              { x: NAN, y: NAN },
            ],
            spacing: { x: 0.1, y: 0.1, source: 'user' },
          },
        ],
      }),
    );
    assert.deepEqual(json, {
      name: 'Orthodontic landmarks',
      type: 'Multiple points',
      points: [{ name: '1', point: [1.5, 2, 4], scale: 0.1 }],
      version: { major: 1, minor: 0 },
    });
  });

  test('writing needs stack-index ids and one scale', () => {
    const format = fileFormat('cldetection').format;
    assert.throws(
      () => format({ names: ['1'], images: [{ image: '001', points: [{ x: 1, y: 2 }] }] }),
      /^Error: formatClDetection: image '001' is not a stack index; CL-Detection JSON names images by their 1-based position in the image stack \(1, 2, \.\.\.\)$/,
    );
    assert.throws(
      () =>
        format({
          names: ['1'],
          images: [{ image: '1', points: [{ x: 1, y: 2 }], spacing: { x: 0.1, y: 0.2, source: 'user' } }],
        }),
      /^Error: formatClDetection: image '1' has spacing 0\.1 x 0\.2 mm; CL-Detection keeps one scale for both axes$/,
    );
  });

  const errors: [string, string, string][] = [
    [
      'malformed',
      '{"points": {}}',
      "d.cldetection.json: not a CL-Detection file: expected an object with a 'points' list",
    ],
    [
      'wrong point length',
      file([{ name: '1', point: [1, 2] }]),
      'd.cldetection.json: points[0]: point is [1,2], expected [x, y, image index]',
    ],
    [
      'bad image index',
      file([{ name: '1', point: [1, 2, 0] }]),
      'd.cldetection.json: points[0]: point[2] (the image index) is 0, expected 1, 2, ...',
    ],
    [
      'non-numeric',
      file([{ name: '1', point: [1, '2', 1] }]),
      `d.cldetection.json: image '1' (points[0]): point[1] (landmark '1' y) is "2", not a number`,
    ],
    [
      'duplicate landmark of an image',
      file([
        { name: '1', point: [1, 2, 1] },
        { name: '1', point: [1, 2, 1] },
      ]),
      "d.cldetection.json: image '1' (points[1]): landmark '1' appears twice",
    ],
    [
      'no landmark name',
      file([{ point: [1, 2, 1] }]),
      "d.cldetection.json: image '1' (points[0]): name is missing, expected the landmark name",
    ],
    [
      'scales disagree',
      file([
        { name: '1', point: [1, 2, 1], scale: 0.1 },
        { name: '2', point: [1, 2, 1], scale: 0.2 },
      ]),
      "d.cldetection.json: image '1' (points[1]): scale 0.2 differs from this image's earlier scale 0.1",
    ],
  ];
  for (const [name, text, message] of errors)
    test(name, () => assertDataError(() => parse('cldetection', text, f), message));
});

describe('ISBI txt folders', () => {
  const folder = (files: Record<string, string>) => {
    const dir = tempDir();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  test('reads landmark lines up to the first other line; clinical lines are ignored', async () => {
    const dir = folder({
      '002.txt': '10,20\r\n30.5,40\r\n2\r\n1\r\n',
      '001.txt': '835,996\n1473,1029\n\n3\n',
      '.hidden.txt': 'x',
      'notes.md': 'x',
    });
    const ann = await readAnnotations(dir);
    assert.deepEqual(ann.names, ['L1', 'L2']);
    assertImages(ann.images, [
      {
        image: '001',
        points: [
          { x: 835, y: 996 },
          { x: 1473, y: 1029 },
        ],
      },
      {
        image: '002',
        points: [
          { x: 10, y: 20 },
          { x: 30.5, y: 40 },
        ],
      },
    ]);
  });

  test('with a known landmark count, later lines are ignored even when they look like x,y', async () => {
    const dir = folder({ '001.txt': '1,2\n3,4\n5,6\n7\n' });
    const ann = await readAnnotations(dir, 'isbi-txt', { landmarkCount: 2 });
    assertImages(ann.images, [
      {
        image: '001',
        points: [
          { x: 1, y: 2 },
          { x: 3, y: 4 },
        ],
      },
    ]);
  });

  test('writes the numbers as they are, NaN,NaN for a missing landmark', async () => {
    const dir = join(tempDir(), 'out');
    await writeAnnotations(
      dir,
      {
        names: ['A', 'B'],
        images: [
          {
            image: '001',
            points: [
              { x: 1.25, y: 2 },
              { x: NAN, y: NAN },
            ],
          },
        ],
      },
      'isbi-txt',
    );
    assert.deepEqual(readdirSync(dir), ['001.txt']);
    const ann = await readAnnotations(dir);
    assertPoints(
      ann.images[0]!.points,
      [
        { x: 1.25, y: 2 },
        { x: NAN, y: NAN },
      ],
      '001',
    );
  });

  test('a formatting error writes nothing', async () => {
    const dir = join(tempDir(), 'out');
    const bad = {
      names: ['A'],
      images: [
        { image: '001', points: [{ x: 1, y: 2 }] },
        { image: '002', points: [] },
      ],
    };
    await assert.rejects(
      () => writeAnnotations(dir, bad, 'isbi-txt'),
      /^Error: formatIsbiTxt: image '002' has 0 points, expected 1$/,
    );
    assert.equal(existsSync(dir), false);
  });

  test('an id that is not a file name is refused', async () => {
    const dir = join(tempDir(), 'out');
    const ann = { names: ['A'], images: [{ image: '../x', points: [{ x: 1, y: 2 }] }] };
    await assert.rejects(
      () => writeAnnotations(dir, ann, 'isbi-txt'),
      /^Error: formatIsbiTxt: image id '\.\.\/x' cannot be a file name$/,
    );
  });

  test('a folder with other landmark files is refused before anything is written', async () => {
    const dir = folder({ '009.txt': '1,2\n' });
    const ann = { names: ['A'], images: [{ image: '001', points: [{ x: 1, y: 2 }] }] };
    await assertDataErrorAsync(
      () => writeAnnotations(dir, ann),
      `${dir}: already holds 009.txt, which would read back as extra images; write to an empty folder`,
    );
    assert.deepEqual(readdirSync(dir), ['009.txt']);
  });

  test('wrong landmark count names the file and the line where the landmarks stop', async () => {
    const dir = folder({ '001.txt': '1,2\n3,4\n', '002.txt': '1,2\n3\n' });
    await assertDataErrorAsync(
      () => readAnnotations(dir),
      `${join(dir, '002.txt')}:2: 1 landmark, but 001.txt has 2; '3' is not x,y`,
    );
    const short = folder({ '001.txt': '1,2\n3,4\n', '002.txt': '1,2\n' });
    await assertDataErrorAsync(
      () => readAnnotations(short),
      `${join(short, '002.txt')}: 1 landmark, but 001.txt has 2`,
    );
    await assertDataErrorAsync(
      () => readAnnotations(short, 'isbi-txt', { landmarkCount: 2 }),
      `${join(short, '002.txt')}: 1 landmark, expected 2`,
    );
  });

  test('non-numeric value with a known count', async () => {
    const dir = folder({ '001.txt': '1,2\nx,4\n' });
    await assertDataErrorAsync(
      () => readAnnotations(dir, 'isbi-txt', { landmarkCount: 2 }),
      `${join(dir, '001.txt')}:2: landmark 2: 'x,4' is not x,y numbers`,
    );
  });

  test('a file that starts with something else', async () => {
    const dir = folder({ '001.txt': 'abc\n' });
    await assertDataErrorAsync(
      () => readAnnotations(dir),
      `${join(dir, '001.txt')}:1: 'abc' is not x,y (the first line must be a landmark)`,
    );
  });

  test('half a missing point', async () => {
    const dir = folder({ '001.txt': 'NaN,3\n' });
    await assertDataErrorAsync(
      () => readAnnotations(dir),
      `${join(dir, '001.txt')}:1: 'NaN,3': x and y must both be numbers or both NaN`,
    );
  });

  test('an empty folder', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    await assertDataErrorAsync(() => readAnnotations(dir), `${dir}: no .txt landmark files in this folder`);
  });
});
