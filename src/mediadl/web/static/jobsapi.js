// Server jobs as the page uses them: whether this server offers them, the API key they may need
// (asked once, kept beside the settings), and the calls of /api/v1/jobs.
import { ApiError, call } from './api.js';
import { $ } from './dom.js';
import { has, t } from './i18n.js';
import { apiKey, keepApiKey } from './settings.js';

const JOBS = '/api/v1/jobs';
const section = $('jobs');

/** Whether this server keeps downloads (the page carries its Jobs view only then). */
export const jobsOn = Boolean(section);

/** Whether jobs here need an API key (else they are open to everyone). */
export const keyNeeded = jobsOn && section.dataset.key === 'key';

/** The codes that mean "this key won't do": the page asks for another. */
export const KEY_ERRORS = new Set(['auth.missing', 'auth.invalid']);

let key = keyNeeded ? apiKey() : '';

/** The key in use ('' when none is needed or none was given yet). */
export const currentKey = () => key;

/** Forget the key (here and in the browser's storage). */
export function forgetKey() {
  key = '';
  keepApiKey('');
}

/** Words for an error of the API: its code's message, else a general one. */
export function explain(err) {
  if (typeof err === 'string') return err;
  const code = err instanceof ApiError || typeof err?.code === 'string' ? err.code : '';
  return code && has(`error.${code}`) ? t(`error.${code}`) : t('error.generic');
}

/**
 * Ask for the key in a dialog; `why` (an error) says what was wrong with the last one.
 * Resolves with the key kept, or '' when the person chose not to give one.
 */
export function askKey(why = null) {
  const dialog = $('key-dialog');
  const input = $('key-input');
  const problem = $('key-problem');
  problem.hidden = !why;
  problem.textContent = why ? explain(why) : '';
  input.value = '';
  input.setAttribute('aria-invalid', why ? 'true' : 'false');
  return new Promise((done) => {
    const finish = (given) => {
      $('key-form').removeEventListener('submit', submitted);
      $('key-cancel').removeEventListener('click', cancelled);
      dialog.removeEventListener('close', closed);
      if (dialog.open) dialog.close();
      if (given) {
        key = given;
        keepApiKey(given);
      }
      done(given);
    };
    const submitted = (event) => {
      event.preventDefault();
      const given = input.value.trim();
      if (given) finish(given);
      else input.focus();
    };
    const cancelled = () => finish('');
    const closed = () => finish(''); // Escape
    $('key-form').addEventListener('submit', submitted);
    $('key-cancel').addEventListener('click', cancelled);
    dialog.addEventListener('close', closed);
    dialog.showModal();
    input.focus();
  });
}

function headers(extra = {}) {
  return key ? { ...extra, Authorization: `Api-Key ${key}` } : extra;
}

async function json(url, init = {}) {
  const response = await call(url, { ...init, headers: headers({ Accept: 'application/json', ...init.headers }) });
  return response.status === 204 ? null : response.json();
}

/**
 * Run `request` with the key; when one is needed and missing or refused, ask for it (saying
 * why) and try again. When the person gives none: throws the refusal, or an AbortError (which
 * the page doesn't show) when nothing was tried.
 */
export async function withKey(request) {
  let why = null;
  for (;;) {
    if (keyNeeded && !key) {
      if (!(await askKey(why))) throw why || new DOMException(t('jobs.key.needed'), 'AbortError');
    }
    try {
      return await request();
    } catch (err) {
      if (!(keyNeeded && err instanceof ApiError && KEY_ERRORS.has(err.code))) throw err;
      forgetKey();
      why = err;
    }
  }
}

/** Queue a job: `body` is /download's body plus `items` for a playlist; resolves to JobOut. */
export const addJob = (body) => json(JOBS, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** The newest jobs of this key: JobListOut. */
export const listJobs = (limit = 50) => json(`${JOBS}?limit=${limit}`);

export const cancelJob = (id) => json(`${JOBS}/${id}/cancel`, { method: 'POST' });
export const retryJob = (id) => json(`${JOBS}/${id}/retry`, { method: 'POST' });
export const removeJob = (id) => json(`${JOBS}/${id}`, { method: 'DELETE' });

/** A saved file's link, for the browser to download itself (it can't send headers: `?key=`). */
export function fileLink(download) {
  if (!key) return download;
  const url = new URL(download, document.baseURI);
  url.searchParams.set('key', key);
  return url.href;
}
