import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Deps } from '../process/deps.js';
import { AppError, errorBody, errorStatus } from './errors.js';
import type { AppEnv } from './context.js';
import { bearerAuth } from './middleware/auth/index.js';
import { requestId } from './middleware/request-id/index.js';
import { requestLog } from './middleware/request-log/index.js';
import { adminStudentRoutes } from './routes/admin-students.routes.js';
import { enrollmentRoutes } from './routes/enrollments.routes.js';
import { courseRoutes } from './routes/courses.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { historyRoutes } from './routes/history.routes.js';
import { importRoutes } from './routes/imports.routes.js';
import { jobActionRoutes } from './routes/job-actions.routes.js';
import { jobEventRoutes } from './routes/job-events.routes.js';
import { jobRoutes } from './routes/jobs.routes.js';
import { QUEUE_BOARD_PATH, queueBoardRoutes } from './routes/queue-board.routes.js';
import { openApiRoutes } from './openapi/index.js';
import { pageRoutes } from './routes/pages.routes.js';
import { studentRoutes } from './routes/students.routes.js';

/** Builds the HTTP app: health and metrics at the root, the contract's API under /api/v1. */
export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use(requestId(deps.logger));
  app.use(
    requestLog((method, route, status, ms) =>
      deps.metrics.httpDuration.observe({ method, route, status: String(status) }, ms / 1000),
    ),
  );

  app.route('/', healthRoutes(deps));
  app.route(QUEUE_BOARD_PATH, queueBoardRoutes(deps));
  app.route('/', openApiRoutes());
  app.route('/', pageRoutes());

  const api = new Hono<AppEnv>();
  api.use(bearerAuth({ admin: deps.config.adminToken, read: deps.config.readToken }));
  api.get('/students/teams', () => {
    throw new AppError('not_found', 'teams were removed: enrollments live in course_enrollments only');
  });
  api.route('/', enrollmentRoutes(deps));
  api.route('/', adminStudentRoutes(deps));
  api.route('/', jobRoutes(deps));
  api.route('/', jobEventRoutes(deps));
  api.route('/', historyRoutes(deps));
  api.route('/', jobActionRoutes(deps));
  api.route('/', importRoutes(deps));
  api.route('/', studentRoutes(deps));
  api.route('/', courseRoutes(deps));
  app.route('/api/v1', api);

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof AppError) {
      if (err.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer');
      return c.json(errorBody(err.code, err.message, err.details), err.status);
    }
    if (err instanceof HTTPException) {
      // Hono's own exceptions: malformed JSON bodies (400), body limits (413), and the like.
      const status = err.status;
      const code = status === 413 ? 'too_large' : status < 500 ? 'invalid' : 'internal';
      return c.json(errorBody(code, err.message || 'bad request'), status === 413 ? 413 : status < 500 ? 400 : 500);
    }
    c.var.log?.error({ err }, 'unhandled error');
    return c.json(errorBody('internal', 'internal server error'), errorStatus.internal);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
