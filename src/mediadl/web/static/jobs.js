// The Jobs view: the downloads this server runs and keeps for this key, newest first, with each
// item's progress, Cancel, Retry, Remove and a link to every saved file.
//
// Progress comes from polling the list (once a second while a job is waiting or running), not
// from each job's event stream: one request covers every job, including jobs added elsewhere
// (another tab, the CLI), and a page with many running jobs doesn't hold one of the browser's
// six connections per server for each (reading the list costs the server no rate limit).
import { ApiError } from './api.js';
import { $, h, plain } from './dom.js';
import { bytes, speed, t } from './i18n.js';
import {
  KEY_ERRORS, addJob, askKey, cancelJob, currentKey, explain, fileLink, forgetKey, jobsOn,
  keyNeeded, listJobs, removeJob, retryJob, withKey,
} from './jobsapi.js';

const FINAL = new Set(['done', 'failed', 'cancelled']);
const EVERY_MS = 1000;
const STATES = {
  queued: 'jobs.state.queued',
  running: 'jobs.state.running',
  done: 'jobs.state.done',
  failed: 'jobs.state.failed',
  cancelled: 'jobs.state.cancelled',
};
const STAGES = { resolve: 'jobs.stage.resolve', mux: 'jobs.stage.mux' };

const rows = new Map();
let timer = null;
let loading = null;
let onChange = () => {};

function itemText(item) {
  if (item.state === 'failed' && item.error) return explain(item.error);
  if (item.state === 'done' && item.size) return `${t(STATES.done)} · ${bytes(item.size)}`;
  if (item.state !== 'running') return t(STATES[item.state]);
  if (STAGES[item.stage]) return t(STAGES[item.stage]);
  const sent = bytes(item.downloaded || 0);
  const line = item.total
    ? t('status.progress', { sent, total: bytes(item.total) })
    : t('status.progress_unknown', { sent });
  return item.speed > 0 ? `${line} · ${speed(item.speed)}` : line;
}

/** One item of a job: its title (for several), a bar, words, and its file's link once saved. */
function itemView() {
  const title = h('span', { class: 'job-item-title' });
  const bar = h('progress', { 'aria-label': t('download.label') });
  const text = h('span', { class: 'job-item-text' });
  const link = h('a', { class: 'job-file', download: '', hidden: true });
  const root = h('li', { class: 'job-item' }, title, bar, text, link);
  return {
    root,
    update(item, several) {
      root.dataset.state = item.state;
      title.hidden = !several;
      title.textContent = plain(item.title) || t('list.item', { index: item.index });
      if (item.state === 'done') [bar.max, bar.value] = [1, 1];
      else if (item.state === 'running' && item.total) {
        bar.max = item.total;
        bar.value = Math.min(item.downloaded || 0, item.total);
      } else bar.removeAttribute('value');
      bar.hidden = item.state === 'failed' || item.state === 'cancelled';
      text.textContent = itemText(item);
      link.hidden = !item.download;
      if (item.download) {
        link.href = fileLink(item.download);
        link.textContent = t('jobs.download', { name: plain(item.file), size: bytes(item.size) });
      }
    },
  };
}

function button(words, onclick, extra = '') {
  return h('button', { class: `secondary ${extra}`.trim(), type: 'button', onclick }, words);
}

/** When `focused` (the button that had the focus) was hidden, focus the first action shown. */
function keepFocus(actions, focused) {
  if (!focused || !focused.hidden) return;
  const next = [...actions.querySelectorAll('button')].find((b) => !b.hidden);
  next?.focus();
}

/** One job: its title and state, its items, and what can be done with it. */
function jobView(id) {
  const title = h('h3', { class: 'job-title' });
  const state = h('span', { class: 'job-state' });
  const error = h('p', { class: 'job-error', hidden: true });
  const items = h('ul', { class: 'job-items' });
  const views = new Map();
  const act = (call) => () => perform(() => call(id));
  const cancel = button(t('jobs.cancel'), act(cancelJob));
  const retry = button(t('jobs.retry'), act(retryJob));
  const remove = button(t('jobs.remove'), () => confirm(true));
  const question = h('span', { class: 'job-question', hidden: true }, t('jobs.remove.confirm'));
  const yes = button(t('jobs.remove.yes'), act(removeJob), 'danger');
  const no = button(t('jobs.remove.no'), () => confirm(false));
  const actions = h('div', { class: 'job-actions' }, cancel, retry, remove, question, yes, no);
  const root = h('li', { class: 'job', 'data-id': id },
    h('div', { class: 'job-head' }, title, state), error, items, actions);
  let last = null;

  function confirm(asking) {
    for (const node of [cancel, retry, remove]) node.hidden = asking || node.dataset.off === '1';
    for (const node of [question, yes, no]) node.hidden = !asking;
    (asking ? no : remove).focus();
  }
  yes.hidden = true;
  no.hidden = true;

  return {
    root,
    update(job) {
      last = job;
      const focused = actions.contains(document.activeElement) ? document.activeElement : null;
      root.dataset.state = job.state;
      title.textContent = plain(job.title) || plain(job.link);
      state.textContent = t(STATES[job.state]);
      error.hidden = !job.error;
      error.textContent = job.error ? explain(job.error) : '';
      const several = job.items.length > 1;
      for (const item of job.items) {
        if (!views.has(item.index)) {
          const view = itemView();
          views.set(item.index, view);
          items.append(view.root);
        }
        views.get(item.index).update(item, several);
      }
      cancel.dataset.off = FINAL.has(job.state) ? '1' : '0';
      retry.dataset.off = ['failed', 'cancelled'].includes(job.state) ? '0' : '1';
      if (yes.hidden) {
        cancel.hidden = cancel.dataset.off === '1';
        retry.hidden = retry.dataset.off === '1';
      }
      keepFocus(actions, focused);
    },
    get job() { return last; },
  };
}

const list = () => $('jobs-list');

/** Show the server's jobs: new ones on top, gone ones removed, the others updated in place
 * (so a focused button keeps the focus). */
function show(answer) {
  const seen = new Set();
  answer.jobs.forEach((job, position) => {
    seen.add(job.id);
    let row = rows.get(job.id);
    const before = row?.job;
    if (!row) {
      row = jobView(job.id);
      rows.set(job.id, row);
    }
    row.update(job);
    const here = list().children[position];
    if (here !== row.root) list().insertBefore(row.root, here || null);
    if (before && before.state !== job.state && FINAL.has(job.state)) {
      onChange(t('jobs.changed', { title: plain(job.title) || plain(job.link), state: t(STATES[job.state]) }));
    }
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      if (row.root.contains(document.activeElement)) $('jobs-title').focus();
      row.root.remove();
      rows.delete(id);
    }
  }
  $('jobs-empty').hidden = answer.jobs.length > 0;
  $('jobs-more').hidden = answer.total <= answer.jobs.length;
  $('jobs-more').textContent = t('jobs.shown', { shown: answer.jobs.length, total: answer.total });
}

function showKeyNeeded(why = null) {
  $('jobs-key').hidden = false;
  $('jobs-forget').hidden = true;
  $('jobs-empty').hidden = true;
  problem(why);
  for (const row of rows.values()) row.root.remove();
  rows.clear();
}

function problem(err) {
  $('jobs-problem').hidden = !err;
  $('jobs-problem').textContent = err ? explain(err) : '';
}

/** Read the list again now, and again each second while something is still going on. */
export async function refresh() {
  if (!jobsOn) return;
  clearTimeout(timer);
  timer = null;
  if (keyNeeded && !currentKey()) {
    showKeyNeeded();
    return;
  }
  const mine = (loading = listJobs());
  let answer;
  try {
    answer = await mine;
  } catch (err) {
    if (mine !== loading) return;
    if (err instanceof ApiError && KEY_ERRORS.has(err.code) && keyNeeded) {
      forgetKey();
      showKeyNeeded(err);
      return;
    }
    problem(err);
    timer = setTimeout(refresh, EVERY_MS * 5);
    return;
  }
  if (mine !== loading) return;
  $('jobs-key').hidden = true;
  $('jobs-forget').hidden = !keyNeeded;
  problem(null);
  show(answer);
  const active = answer.jobs.some((job) => !FINAL.has(job.state));
  if (active && document.visibilityState === 'visible') timer = setTimeout(refresh, EVERY_MS);
}

async function perform(request) {
  try {
    await withKey(request);
  } catch (err) {
    if (err.name !== 'AbortError') problem(err); // AbortError: no key given, nothing to say
  }
  await refresh();
}

/**
 * Queue `body` as a job ("Save on the server"), asking for the key when one is needed; resolves
 * with the job (JobOut), or throws the API's error.
 */
export async function saveOnServer(body) {
  const job = await withKey(() => addJob(body));
  await refresh();
  return job;
}

/** The "Save on the server" button of a card (null when this server keeps no downloads). */
export function saveButton(words, onclick) {
  if (!jobsOn) return null;
  return h('button', { class: 'secondary wide save-server', type: 'button', onclick }, words);
}

function start() {
  $('jobs-refresh').addEventListener('click', refresh);
  $('jobs-key-enter').addEventListener('click', async () => {
    if (await askKey()) await refresh();
  });
  $('jobs-forget').addEventListener('click', () => {
    forgetKey();
    showKeyNeeded();
    $('jobs-key-enter').focus();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !timer) refresh();
  });
  refresh();
}

/** `announce(text)` says a job's end aloud (the page's status line). */
export function announceWith(announce) {
  onChange = announce;
}

if (jobsOn) start();
