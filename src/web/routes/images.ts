// Reading a project: its summary, the annotation queue (the current
// selection's ranking), the review list, one image's landmarks and the
// image itself as a display PNG. Images are named by id only.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { EXPORT_FORMATS } from '../../project/export.js';
import { imageParams } from '../schemas.js';
import type { ServerContext } from '../server.js';
import { annotationView, predictionView } from '../views.js';

export function imageRoutes(app: FastifyInstance, { project, jobs }: ServerContext): void {
  app.get('/api/project', async () => {
    const m = project.manifest;
    return {
      name: basename(project.dir),
      landmarks: m.landmarks,
      spacing: m.spacing,
      images: m.images.length,
      selection: project.selection
        ? {
            name: m.selection,
            strategy: project.selection.strategy,
            budget: project.selection.budget,
            created: project.selection.created,
          }
        : null,
      predictions: project.predictions
        ? { name: project.predictions.name, templates: project.predictions.templates }
        : null,
      models: m.models.map(({ name, kind }) => ({ name, kind })),
      jobs: jobs.availability(),
      exportFormats: EXPORT_FORMATS,
    };
  });

  app.get('/api/queue', async () => ({ selection: project.manifest.selection, items: project.queue() }));

  app.get('/api/review', async () => ({
    predictions: project.predictions?.name ?? null,
    items: project.review(),
  }));

  app.get<{ Params: { id: string } }>('/api/images/:id', { schema: { params: imageParams } }, async (req) => {
    const { id } = req.params;
    const im = project.image(id);
    const display = await project.display(id);
    return {
      id,
      width: im.width,
      height: im.height,
      spacing: display.info.spacing ?? project.manifest.spacing,
      annotation: annotationView(project.annotations.get(id)),
      prediction: predictionView(project.prediction(id), project.predictions?.name),
    };
  });

  app.get<{ Params: { id: string } }>(
    '/api/images/:id/display.png',
    { schema: { params: imageParams } },
    async (req, reply) => {
      const { png } = await project.display(req.params.id);
      return reply
        .type('image/png')
        .header('cache-control', 'private, max-age=3600')
        .send(await readFile(png));
    },
  );
}
