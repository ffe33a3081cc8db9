// The native API (/api/v1), as the page uses it: read a link, get a tunnel, follow its progress.

/** An error the server named (`code` from its stable list), or one of the page's own. */
export class ApiError extends Error {
  constructor(code, message = '', retryAfter = 0, service = '', reason = '') {
    super(message || code);
    this.code = code;
    /** Seconds the server asked us to wait (429, 503), else 0. */
    this.retryAfter = retryAfter;
    /** The site a site-wide error is about (`blutv`), for words about that site. */
    this.service = service;
    /** Why, where one code covers several causes (`unreachable` for fetch.failed). */
    this.reason = reason;
  }
}

const API = '/api/v1';

/** The ApiError of an error body ({code, message, context}). */
function fromBody(error, wait = 0) {
  const context = error.context || {};
  return new ApiError(error.code, error.message, wait, String(context.service || ''),
    String(context.reason || ''));
}

/** `fetch`, with an ApiError for a network failure or an error answer. */
export async function call(url, init = {}) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError('network');
  }
  if (!response.ok) throw await problem(response);
  return response;
}

async function problem(response) {
  const wait = Number(response.headers.get('Retry-After')) || 0;
  try {
    const body = await response.json();
    if (body && body.error && body.error.code) {
      return fromBody(body.error, wait);
    }
  } catch {
    // not our JSON: a proxy in between, or the server is gone
  }
  return new ApiError(response.status >= 500 ? 'internal' : 'generic');
}

/** Server-Sent Events of a response body, as {event, data} with data parsed from JSON. */
async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer = (buffer + value).replace(/\r\n/g, '\n').replace(/\r(?!$)/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
    }
  }
}

/** Read a link: resolves to the media (MediaOut); `onWait(seconds)` while the site is read. */
export async function resolve(url, { item = null, signal, onWait = () => {} } = {}) {
  const query = new URLSearchParams({ url });
  if (item) query.set('item', String(item));
  const response = await call(`${API}/resolve/events?${query}`, {
    headers: { Accept: 'text/event-stream' },
    signal,
  });
  for await (const { event, data } of events(response)) {
    if (event === 'progress') onWait(data.elapsed || 0);
    else if (event === 'result') return data;
    else if (event === 'error') throw fromBody(data.error);
  }
  throw new ApiError('network');
}

/** A tunnel for one choice: resolves to DownloadOut ({tunnel, events, filename, size, …}). */
export async function prepare(body, { signal } = {}) {
  const response = await call(`${API}/download`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  return response.json();
}

/** Wait `ms`, or stop at once when `signal` aborts. */
function pause(ms, signal) {
  return new Promise((done, fail) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      fail(signal.reason);
    }, { once: true });
  });
}

const FOLLOW_RETRIES = 5;

/**
 * The states the server publishes for a tunnel, until `done` or `error`. Like EventSource, it
 * reconnects when the stream drops before a final state (the server ends a stream that has
 * been idle for a while): it answers a new subscriber with the current state at once, so
 * nothing is lost.
 */
export async function* follow(eventsUrl, { signal } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await call(eventsUrl, { headers: { Accept: 'text/event-stream' }, signal });
      for await (const { data } of events(response)) {
        yield data;
        if (data.stage === 'done' || data.stage === 'error') return;
        attempt = 0; // a stream that spoke counts as working: the server ends idle ones
      }
    } catch (err) {
      const dropped = !(err instanceof ApiError) || err.code === 'network';
      if (err.name === 'AbortError' || !dropped || attempt >= FOLLOW_RETRIES) throw err;
    }
    if (attempt >= FOLLOW_RETRIES) return;
    await pause(250 * (attempt + 1), signal);
  }
}
