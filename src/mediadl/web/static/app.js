// The page: paste a link, see what it holds, save it. Errors in words, with a way to try again.
import { keepLink, linkInAddress } from './address.js';
import { ApiError, resolve } from './api.js';
import { $, plain } from './dom.js';
import { has, t } from './i18n.js';
import { announceWith } from './jobs.js';
import { renderList } from './list.js';
import { renderMedia } from './media.js';
import './chips.js';
import './settings.js';

const form = $('paste');
const input = $('url');
const result = $('result');
const status = $('status');
const busy = $('busy');
const busyText = $('busy-text');
const problem = $('problem');
const problemText = $('problem-text');
const retryButton = $('retry');
const clearButton = $('clear');
const pasteButton = $('paste-link');

/** Errors that the same request, made again, can't get past: no "Try again" for them. */
const HOPELESS = /^(link\.|content\.(unavailable|no_media|private|region|drm|live|too_long|too_large|too_many_items|unfetchable)$|site\.|auth\.|config\.|format\.unavailable$|request\.too_large$|proxy\.(auth|forbidden)$|jobs\.)/;

let again = null;
let lookup = null;

/** Words for an error: the catalog's message for its code (about its site when it names one),
 * else a general one. */
function explain(err) {
  if (typeof err === 'string') return err;
  const key = err instanceof ApiError ? `error.${err.code}` : '';
  if (key === 'error.fetch.failed' && err.reason === 'unreachable') return t('error.fetch.unreachable');
  const specific = key && err.service ? `${key}.${err.service}` : '';
  if (specific && has(specific)) return t(specific);
  return key && has(key) ? t(key) : t('error.generic');
}

const ui = {
  announce(text) {
    status.textContent = text;
  },
  /** Show `err` inline; `retry` (if any) runs again from the Try again button. */
  fail(err, retry = null) {
    if (err && err.name === 'AbortError') return;
    if (err && !(err instanceof ApiError) && typeof err !== 'string') console.error(err);
    problemText.textContent = explain(err);
    const helps = retry && !(err instanceof ApiError && HOPELESS.test(err.code));
    again = helps ? retry : null;
    retryButton.hidden = !helps;
    problem.hidden = false;
    status.textContent = '';
  },
  clear() {
    problem.hidden = true;
    again = null;
  },
};

announceWith(ui.announce);

/** The link in what was pasted: share sheets often add words around it. */
function cleanLink(text) {
  const trimmed = text.trim();
  const found = trimmed.match(/https?:\/\/\S+/i);
  if (found) return found[0];
  if (/^[\w-]+(\.[\w-]+)+(\/\S*)?$/.test(trimmed)) return `https://${trimmed}`;
  return trimmed;
}

async function look() {
  const url = cleanLink(input.value);
  lookup?.abort();
  ui.clear();
  if (!url) {
    ui.fail(t('form.empty'));
    input.focus();
    return;
  }
  const controller = new AbortController();
  lookup = controller;
  result.hidden = true;
  result.replaceChildren();
  busyText.textContent = t('status.resolving');
  busy.hidden = false;
  ui.announce(t('status.resolving'));
  try {
    const media = await resolve(url, {
      signal: controller.signal,
      onWait: (seconds) => {
        const whole = Math.floor(seconds);
        busyText.textContent = whole
          ? t('status.resolving_for', { seconds: whole })
          : t('status.resolving');
      },
    });
    const card = media.is_playlist
      ? renderList(media, { url, ui })
      : renderMedia(media, { url, item: media.item, ui });
    result.replaceChildren(card);
    result.hidden = false;
    keepLink(url);
    ui.announce(media.is_playlist
      ? t('status.found_list', { count: (media.entries || []).length })
      : t('status.found', { title: plain(media.title) }));
    $('media-title')?.focus({ preventScroll: true });
    card.querySelector('button[type=submit]')?.scrollIntoView({ block: 'nearest' });
  } catch (err) {
    ui.fail(err, look);
  } finally {
    if (lookup === controller) {
      busy.hidden = true;
      lookup = null;
    }
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  look();
});
const LINKISH = /https?:\/\/|^\s*[\w-]+(\.[\w-]+)+[/]/i;

/** A pasted link takes the field's place (a second link never glues onto the first). */
function take(text) {
  input.value = cleanLink(text);
  fieldChanged();
  look();
}

function fieldChanged() {
  clearButton.hidden = !input.value;
}

input.addEventListener('paste', (event) => {
  const text = event.clipboardData?.getData('text') || '';
  if (LINKISH.test(text)) {
    event.preventDefault();
    take(text);
    return;
  }
  setTimeout(() => { fieldChanged(); if (input.value.trim()) look(); }, 0);
});
input.addEventListener('input', fieldChanged);
clearButton.addEventListener('click', () => {
  lookup?.abort();
  input.value = '';
  fieldChanged();
  ui.clear();
  result.hidden = true;
  result.replaceChildren();
  keepLink('');
  input.focus();
});
if (navigator.clipboard?.readText) {
  pasteButton.hidden = false;
  pasteButton.addEventListener('click', async () => {
    try {
      const text = await navigator.clipboard.readText();
      if (text.trim()) take(text);
      else input.focus();
    } catch {
      input.focus(); // the browser said no: the field takes Ctrl+V as ever
    }
  });
}
retryButton.addEventListener('click', () => {
  if (again) again();
});
document.documentElement.classList.add('js');
const given = linkInAddress();
if (given) take(given);
