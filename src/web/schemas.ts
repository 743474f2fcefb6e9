// JSON schemas of the request bodies and parameters. Fastify checks them
// (Ajv, with type coercion and removal of unknown fields turned off in
// server.ts) before a handler runs, so a handler sees only valid shapes;
// what a schema cannot know (an image's size, the landmark count) the
// project checks.
import { MAX_LANDMARKS } from '../project/manifest.js';

const coordinate = { type: 'number', minimum: -1e7, maximum: 1e7 } as const;

export const imageParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 512 } },
} as const;

export const landmarkParams = {
  type: 'object',
  required: ['id', 'landmark'],
  properties: {
    id: imageParams.properties.id,
    // Digits only: parsed by the handler (coercion is off).
    landmark: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
} as const;

export const pointBody = {
  type: 'object',
  required: ['x', 'y'],
  additionalProperties: false,
  properties: { x: coordinate, y: coordinate },
} as const;

export const pointsBody = {
  type: 'object',
  required: ['points'],
  additionalProperties: false,
  properties: {
    points: {
      type: 'array',
      maxItems: MAX_LANDMARKS,
      items: {
        anyOf: [{ type: 'null' }, { type: 'array', minItems: 2, maxItems: 2, items: coordinate }],
      },
    },
    source: { enum: ['manual', 'corrected'] },
  },
} as const;

export const jobBody = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { enum: ['detect', 'refine', 'select'] },
    /** select: how many images to choose next. */
    budget: { type: 'integer', minimum: 1, maximum: 100000 },
  },
} as const;

export const jobParams = {
  type: 'object',
  required: ['job'],
  properties: { job: { type: 'string', maxLength: 100 } },
} as const;

export const exportBody = {
  type: 'object',
  required: ['kind', 'format'],
  additionalProperties: false,
  properties: {
    kind: { enum: ['annotations', 'predictions'] },
    format: { type: 'string', maxLength: 40 },
  },
} as const;

export const exportParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 200 } },
} as const;

export interface PointBody {
  x: number;
  y: number;
}
export interface PointsBody {
  points: ([number, number] | null)[];
  source?: 'manual' | 'corrected';
}
