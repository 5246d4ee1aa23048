import { Type } from '@sinclair/typebox';
import { databaseAnswers } from '../../db/index.js';
import type { RoutePlugin } from '../../http.js';

export const healthRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/health', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness: the process answers',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    },
    config: { rateLimit: false },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: the database answers',
      response: {
        200: Type.Object({ ready: Type.Boolean(), database: Type.String() }),
        503: Type.Object({ ready: Type.Boolean(), database: Type.String() }),
      },
    },
    config: { rateLimit: false },
    handler: async (_req, reply) =>
      (await databaseAnswers(ctx.db, 2000))
        ? { ready: true, database: 'up' }
        : reply.code(503).send({ ready: false, database: 'down' }),
  });

  // Someone who scans a poster with a plain camera app lands here.
  for (const prefix of ['/c', '/C'])
    app.get(`${prefix}/:token`, {
      schema: { hide: true },
      handler: async (_req, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
              '<title>RideTrace 乘车登记</title><body style="font:18px sans-serif;padding:24px">' +
              '<h1>乘车登记 · Ride registration</h1><p>请在超级应用（小程序）中扫描车内二维码完成登记。</p>' +
              '<p>Please scan this code inside the super-app to register your ride.</p></body></html>',
          ),
    });
};
