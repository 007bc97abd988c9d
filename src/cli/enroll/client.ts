import type { JobView } from '../../jobs/job-view.js';

/** The API answered with an error (or could not be reached): the CLI prints `message` and exits 2. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** One row error of a job, as `GET /jobs/{id}/errors` lists it. */
export type JobRowError = { line: number | null; column: string | null; code: string; message: string; value: string | null };

/** A thin client of the service's HTTP API: `request` checks the status and turns error envelopes into ApiError. */
export function createClient(baseUrl: string, token: string) {
  const root = baseUrl.replace(/\/+$/, '');

  async function request(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
    const url = `${root}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(`cannot reach ${root}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, null, null);
    }
    if (!res.ok) throw await apiErrorOf(res);
    return res;
  }

  return {
    request,
    job: async (id: string) => (await (await request(`/api/v1/jobs/${encodeURIComponent(id)}`)).json()) as JobView,
    firstErrors: async (id: string, limit: number) =>
      ((await (await request(`/api/v1/jobs/${encodeURIComponent(id)}/errors?limit=${limit}`)).json()) as { items: JobRowError[] }).items,
  };
}

export type Client = ReturnType<typeof createClient>;

async function apiErrorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(body.error.message, res.status, body.error.code ?? null);
  } catch {
    // not the API's JSON envelope (a proxy's page, say): show the start of it
  }
  return new ApiError(`HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status, null);
}
