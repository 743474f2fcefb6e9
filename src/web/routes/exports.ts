// Exports: write annotations or predictions in a landmark format under the
// project's exports/ folder, list them, download a file export by name.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type ExportKind, exportFile, exportLandmarks } from '../../project/export.js';
import { SUBDIRS } from '../../project/paths.js';
import { exportBody, exportParams } from '../schemas.js';
import type { ServerContext } from '../server.js';

const downloadUrl = (name: string) => `/api/exports/${encodeURIComponent(name)}`;

export function exportRoutes(app: FastifyInstance, { project }: ServerContext): void {
  app.post<{ Body: { kind: ExportKind; format: string } }>(
    '/api/exports',
    { schema: { body: exportBody } },
    async (req, reply) => {
      const r = await exportLandmarks(project, req.body.kind, req.body.format);
      return reply.status(201).send({
        name: r.name,
        format: r.format,
        images: r.images,
        directory: r.directory,
        path: r.path,
        url: r.directory ? null : downloadUrl(r.name),
      });
    },
  );

  app.get('/api/exports', async () => {
    const names: string[] = await readdir(join(project.dir, SUBDIRS.exports)).catch(() => []);
    return { exports: names.filter((n) => !n.startsWith('.')).sort() };
  });

  app.get<{ Params: { name: string } }>(
    '/api/exports/:name',
    { schema: { params: exportParams } },
    async (req, reply) => {
      const path = await exportFile(project, req.params.name);
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${req.params.name}"`)
        .send(await readFile(path));
    },
  );
}
