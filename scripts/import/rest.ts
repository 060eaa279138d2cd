/*
 * A small read-only REST client for the importer (scripts/import.ts): GET with a bearer token, every page of a list
 * by the `Link` header, a bounded back-off on 429, and one clear line for the answers that retrying cannot fix.
 * Pure of process state: the fetch, the clock's sleep and the progress sink are handed in, so the tests drive it.
 * The token is sent in the Authorization header only, never printed, and never sent to another origin.
 */

/** A REST API the importer reads. */
export interface RestClientOptions {
    /** What to call it in messages: "Buildkite", "GitHub". */
    readonly name: string;
    /** The API's base URL, e.g. https://api.buildkite.com. */
    readonly baseUrl: string;
    /** The bearer token. */
    readonly token: string;
    /** The environment variable the token came from, for the 401/403 message. */
    readonly tokenVariable: string;
    /** Extra request headers (GitHub's Accept and API version). */
    readonly headers?: Readonly<Record<string, string>>;
    readonly fetch?: typeof fetch;
    /** Waits `ms`; the tests pass one that records and returns at once. */
    readonly sleep?: (ms: number) => Promise<void>;
    /** Progress lines (stderr in the CLI). */
    readonly progress?: (line: string) => void;
    /** Retries of one request after a 429 or a 5xx before giving up. Defaults to 5. */
    readonly maxRetries?: number;
    /** The longest single wait, in seconds: a reset further off is an error, not a hang. Defaults to 300. */
    readonly maxWaitSeconds?: number;
    /** One request's time limit, in milliseconds. Defaults to 30000. */
    readonly timeoutMs?: number;
}

/** An answer the importer stops on: one line, naming the API, the request and the fix. */
export class ApiError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
        this.name = "ApiError";
    }
}

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), or undefined on the last page. Buildkite and GitHub both
 * paginate this way (buildkite/docs pages/apis/rest_api.md "Pagination"; GitHub REST "Using pagination"), and either
 * may return fewer items than `per_page` on a page that is not the last: the link, not the count, says when to stop.
 */
export function nextLink(header: string | null | undefined): string | undefined {
    if (!header) return undefined;
    for (const part of header.split(/,(?=\s*<)/)) {
        const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
        if (!match) continue;
        const rels = /\brel\s*=\s*"?([^";]*)"?/i.exec(match[2])?.[1].split(/\s+/) ?? [];
        if (rels.includes("next")) return match[1];
    }
    return undefined;
}

/**
 * How long to wait after a 429, in seconds: `Retry-After` (seconds or an HTTP date; GitHub sends it on secondary rate
 * limits), else Buildkite's `RateLimit-Reset` (seconds until the window resets: buildkite/docs
 * pages/apis/rest_api/rate_limits.md), else GitHub's `x-ratelimit-reset` (epoch seconds), else undefined.
 */
export function retryDelaySeconds(headers: Headers, nowMs: number): number | undefined {
    const retryAfter = headers.get("retry-after");
    if (retryAfter !== null) {
        if (/^\s*\d+\s*$/.test(retryAfter)) return Number(retryAfter);
        const at = Date.parse(retryAfter);
        if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - nowMs) / 1000));
    }
    // Buildkite limits per organisation (RateLimit-Reset) and per user (RateLimit-User-Reset); a 429 lifts only when
    // both windows have, so wait for the later of the two (buildkite/docs pages/apis/rest_api/rate_limits.md).
    const resets = ["ratelimit-reset", "ratelimit-user-reset"]
        .map((name) => headers.get(name))
        .filter((reset): reset is string => reset !== null && /^\s*\d+\s*$/.test(reset))
        .map(Number);
    if (resets.length > 0) return Math.max(...resets);
    const epoch = headers.get("x-ratelimit-reset");
    if (epoch !== null && /^\s*\d+\s*$/.test(epoch)) return Math.max(0, Number(epoch) - Math.floor(nowMs / 1000));
    return undefined;
}

const STOP_HINT: Readonly<Record<number, string>> = {
    401: "the token is missing, wrong or expired",
    403: "the token lacks a scope or access this request needs",
    404: "no such organisation, repository or object, or the token cannot see it",
};

/** A read-only client of one REST API. */
export class RestClient {
    private readonly fetch: typeof fetch;
    private readonly sleep: (ms: number) => Promise<void>;
    private readonly origin: string;

    constructor(private readonly options: RestClientOptions) {
        this.fetch = options.fetch ?? fetch;
        this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
        this.origin = new URL(options.baseUrl).origin;
    }

    /** GETs one object. */
    async get<T>(path: string): Promise<T> {
        return (await this.request(this.url(path))).body as T;
    }

    /** GETs every page of a list, following `Link: <...>; rel="next"`. */
    async list<T>(path: string, perPage = 100): Promise<T[]> {
        const first = this.url(path);
        first.searchParams.set("per_page", String(perPage));
        const items: T[] = [];
        let url: URL | undefined = first;
        for (let page = 1; url; page++) {
            const { body, link } = await this.request(url);
            if (!Array.isArray(body))
                throw new ApiError(`${this.options.name} API: GET ${url.pathname} answered a non-list`, 200);
            items.push(...(body as T[]));
            const next = nextLink(link);
            url = next === undefined ? undefined : new URL(next, url);
            // Never hand the token to another host, whatever a Link header says.
            if (url && url.origin !== this.origin)
                throw new ApiError(
                    `${this.options.name} API: GET ${first.pathname} links its next page to ${url.origin}, not ${this.origin}; stopped rather than send the token there`,
                    200,
                );
            if (url) this.options.progress?.(`${this.options.name}: ${first.pathname} page ${page + 1}`);
        }
        return items;
    }

    private url(path: string): URL {
        return new URL(path.replace(/^\//, ""), this.options.baseUrl.replace(/\/*$/, "/"));
    }

    private async request(url: URL): Promise<{ body: unknown; link: string | null }> {
        const maxRetries = this.options.maxRetries ?? 5;
        const maxWait = this.options.maxWaitSeconds ?? 300;
        const what = `${this.options.name} API: GET ${url.pathname}`;
        for (let attempt = 0; ; attempt++) {
            let response: Response;
            try {
                response = await this.fetch(url, {
                    headers: {
                        Accept: "application/json",
                        ...this.options.headers,
                        Authorization: `Bearer ${this.options.token}`,
                    },
                    signal: AbortSignal.timeout(this.options.timeoutMs ?? 30000),
                });
            } catch (e) {
                throw new ApiError(`${what} failed: ${(e as Error).message}`, 0);
            }
            const stop = STOP_HINT[response.status];
            if (stop !== undefined) {
                await response.body?.cancel();
                throw new ApiError(
                    `${what} answered ${response.status}: ${stop}; check ${this.options.tokenVariable}`,
                    response.status,
                );
            }
            // GitHub answers a primary rate limit with 403 and x-ratelimit-remaining: 0, handled above as a stop:
            // its reset is up to an hour away. 429 (both APIs) and 5xx are retried.
            if (response.status === 429 || response.status >= 500) {
                await response.body?.cancel();
                const seconds = retryDelaySeconds(response.headers, Date.now()) ?? Math.min(60, 2 ** attempt);
                if (attempt >= maxRetries)
                    throw new ApiError(`${what} answered ${response.status} ${attempt + 1} times; try later`, 429);
                if (seconds > maxWait)
                    throw new ApiError(
                        `${what} answered ${response.status}, retry in ${seconds}s (more than ${maxWait}s); try later`,
                        response.status,
                    );
                this.options.progress?.(`${what}: ${response.status}, waiting ${seconds}s`);
                await this.sleep(seconds * 1000);
                continue;
            }
            if (!response.ok) {
                await response.body?.cancel();
                throw new ApiError(`${what} answered ${response.status}`, response.status);
            }
            try {
                return { body: await response.json(), link: response.headers.get("link") };
            } catch {
                throw new ApiError(`${what} answered something other than JSON`, response.status);
            }
        }
    }
}
