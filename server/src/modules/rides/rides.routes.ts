import { MyRidesQuerySchema, MyRidesSchema } from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requireScope } from '../../plugins/auth.js';
import { ridesOfPassenger } from './rides.service.js';

export const rideRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/v1/passengers/me/rides', {
    onRequest: requireScope('passenger'),
    schema: {
      tags: ['passengers'],
      security: bearer,
      summary: 'My rides of the last days (default 14), newest first',
      querystring: MyRidesQuerySchema,
      response: { 200: MyRidesSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => ({
      items: await ridesOfPassenger(ctx, req.user.sub, req.query.days ?? ctx.config.rides.historyDays),
    }),
  });
};
