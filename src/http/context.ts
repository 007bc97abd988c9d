import type { Logger } from '../process/logger.js';

/** Typed variables that middleware puts on every request's context. */
export type AppEnv = {
  Variables: {
    requestId: string;
    /** The process logger bound to this request's id. */
    log: Logger;
    /** What the bearer token may do; set on /api/v1 routes only. */
    role: 'admin' | 'read';
    /** The job a request accepted or is about: logged with its request line (request-log). */
    jobId: string | undefined;
  };
};
