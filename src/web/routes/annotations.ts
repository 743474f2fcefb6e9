// Changing annotations. Every change is on disk (flushed) before the reply
// goes out, so a reply is the page's proof that the change is saved.
import type { FastifyInstance } from 'fastify';
import type { Point } from '../../io/types.js';
import {
  imageParams,
  landmarkParams,
  type PointBody,
  type PointsBody,
  pointBody,
  pointsBody,
} from '../schemas.js';
import type { ServerContext } from '../server.js';
import { annotationView } from '../views.js';

type LandmarkParams = { id: string; landmark: string };

export function annotationRoutes(app: FastifyInstance, { project }: ServerContext): void {
  // Place or move one landmark.
  app.put<{ Params: LandmarkParams; Body: PointBody }>(
    '/api/images/:id/landmarks/:landmark',
    { schema: { params: landmarkParams, body: pointBody } },
    async (req) => {
      const { x, y } = req.body;
      const r = await project.setPoint(req.params.id, Number(req.params.landmark), { x, y });
      return { annotation: annotationView(r) };
    },
  );

  app.delete<{ Params: LandmarkParams }>(
    '/api/images/:id/landmarks/:landmark',
    { schema: { params: landmarkParams } },
    async (req) => {
      const r = await project.setPoint(req.params.id, Number(req.params.landmark), null);
      return { annotation: annotationView(r) };
    },
  );

  // All landmarks at once: a corrected prediction, or an undo.
  app.put<{ Params: { id: string }; Body: PointsBody }>(
    '/api/images/:id/annotation',
    { schema: { params: imageParams, body: pointsBody } },
    async (req) => {
      const points = req.body.points.map((p): Point | null => (p ? { x: p[0], y: p[1] } : null));
      const r = await project.setPoints(req.params.id, points, req.body.source ?? 'manual');
      return { annotation: annotationView(r) };
    },
  );

  // Take the prediction as it is.
  app.post<{ Params: { id: string } }>(
    '/api/images/:id/accept',
    { schema: { params: imageParams } },
    async (req) => ({ annotation: annotationView(await project.accept(req.params.id)) }),
  );
}
