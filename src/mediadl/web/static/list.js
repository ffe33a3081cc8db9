// Playlists and posts with several items: pick some, save each as its own file, one at a time.
import { prepare } from './api.js';
import { h, plain } from './dom.js';
import { bytes, duration, t } from './i18n.js';
import { saveButton, saveOnServer } from './jobs.js';
import { thumbnail } from './media.js';
import { save } from './saver.js';
import { naming, settings } from './settings.js';
import { activity, transferView } from './transfer.js';

const HEIGHTS = [1080, 720, 480, 360];

function formatSelect() {
  const options = [
    h('option', { value: 'best' }, t('list.format.best')),
    ...HEIGHTS.map((height) => h('option', { value: String(height) },
      t('list.format.height', { height }))),
    h('option', { value: 'mp3' }, t('list.format.mp3')),
  ];
  const select = h('select', { id: 'list-format', name: 'format' }, options);
  const wanted = Number(settings().quality);
  const fit = HEIGHTS.find((height) => height <= wanted);
  if (fit) select.value = String(fit);
  return select;
}

function requestFor(format) {
  if (format === 'mp3') return { audio: 'mp3' };
  return { quality: format === 'best' ? 'best' : Number(format), container: 'mp4' };
}

function row(entry) {
  const title = plain(entry.title) || t('list.item', { index: entry.index });
  const box = h('input', { type: 'checkbox', name: 'item', value: String(entry.index), checked: true });
  const state = h('span', { class: 'entry-state' });
  const label = h('label', { class: 'entry' }, box,
    thumbnail(entry.thumbnail, title, 'entry-thumb'),
    h('span', { class: 'entry-title' }, title),
    entry.duration ? h('span', { class: 'entry-duration' }, duration(entry.duration)) : null);
  return { entry, title, box, state, root: h('li', {}, label, state) };
}

const WAIT_AT_MOST = 120;
const sleep = (seconds) => new Promise((done) => { setTimeout(done, seconds * 1000); });

/** A tunnel for one item; when the server says "not so fast", wait as it asks and go on. */
async function prepareWhenAllowed(body, onWait) {
  for (;;) {
    try {
      return await prepare(body);
    } catch (err) {
      const wait = err.retryAfter || 0;
      if (!['rate.limited', 'server.busy'].includes(err.code) || !wait || wait > WAIT_AT_MOST) {
        throw err;
      }
      for (let left = wait; left > 0; left -= 1) {
        onWait(left);
        await sleep(1);
      }
    }
  }
}

function setState(r, key, detail = '') {
  r.root.dataset.state = key;
  r.state.textContent = detail || t(`list.state.${key}`);
}

/** The card of a playlist or multi-item post. */
export function renderList(media, { url, ui }) {
  const rows = (media.entries || []).map(row);
  const all = h('input', { type: 'checkbox', id: 'select-all', checked: true });
  const format = formatSelect();
  const button = h('button', { class: 'primary wide', type: 'submit' });
  const transfer = transferView();
  let keeping = false;
  const keep = async () => {
    if (keeping) return;
    const indexes = chosen().map((r) => r.entry.index);
    ui.clear();
    if (!indexes.length) {
      ui.fail(t('list.none'));
      return;
    }
    keeping = true;
    try {
      await saveOnServer({ url, items: indexes, ...requestFor(format.value), ...naming() });
      ui.announce(t('jobs.added', { title: plain(media.title) }));
    } catch (err) {
      ui.fail(err, keep);
    } finally {
      keeping = false;
    }
  };
  const server = saveButton('', keep);
  const form = h('form', { class: 'list-form' },
    h('div', { class: 'list-bar' },
      h('label', { class: 'check' }, all, h('span', {}, t('list.select_all'))),
      h('label', { class: 'select' }, h('span', {}, t('list.format')), format)),
    h('ul', { class: 'entries' }, rows.map((r) => r.root)),
    button,
    server,
    h('p', { class: 'hint note' }, t('list.note')));

  const chosen = () => rows.filter((r) => r.box.checked);
  const refresh = () => {
    const count = chosen().length;
    all.checked = count === rows.length;
    all.indeterminate = count > 0 && count < rows.length;
    button.textContent = t('list.download', { count });
    if (server) server.textContent = t('jobs.save_list', { count });
  };
  all.addEventListener('change', () => {
    for (const r of rows) r.box.checked = all.checked;
    refresh();
  });
  form.addEventListener('change', (event) => { if (event.target !== all) refresh(); });
  refresh();

  let running = false;
  const run = async (targets) => {
    if (running) return;
    ui.clear();
    if (!targets.length) {
      ui.fail(t('list.none'));
      return;
    }
    running = true; // not `disabled`: a disabled button drops the focus to the page's body
    button.setAttribute('aria-disabled', 'true');
    for (const r of targets) setState(r, 'queued');
    const failed = [];
    let firstError = null;
    for (const [i, r] of targets.entries()) {
      setState(r, 'working');
      transfer.reset();
      ui.announce(t('status.list_progress', { current: i + 1, count: targets.length }));
      try {
        const body = { url, item: r.entry.index, ...requestFor(format.value), ...naming(plain(r.entry.title) || null) };
        const ticket = await prepareWhenAllowed(body, (seconds) => {
          setState(r, 'waiting', t('list.state.waiting', { seconds }));
          transfer.say(t('status.rate_wait', { seconds }));
        });
        setState(r, 'working');
        transfer.begin(activity(ticket, { format: format.value === 'mp3' ? 'MP3' : '' }));
        await save(ticket, (state) => {
          transfer.update(state);
          if (state.sent) setState(r, 'working', bytes(state.sent));
        });
        setState(r, 'done');
      } catch (err) {
        setState(r, 'failed');
        failed.push(r);
        firstError ??= err;
      }
    }
    running = false;
    button.removeAttribute('aria-disabled');
    const saved = targets.length - failed.length;
    const summary = failed.length
      ? t('status.list_partial', { done: saved, count: targets.length })
      : t('status.list_done', { count: saved });
    transfer.finish(summary);
    ui.announce(summary);
    if (failed.length) ui.fail(firstError, () => run(failed));
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(chosen());
  });

  const title = h('h2', { id: 'media-title', tabindex: '-1' }, plain(media.title));
  return h('article', { class: 'card', 'aria-labelledby': 'media-title' },
    h('div', { class: 'list-head' }, title,
      h('p', { class: 'hint' }, t('list.count', { count: rows.length }))),
    form, transfer.root);
}
