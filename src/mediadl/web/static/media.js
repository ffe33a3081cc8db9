// One video or sound: its preview, the choices it really has, and the download of one of them.
import { rememberChoice, rememberedChoice } from './address.js';
import { prepare } from './api.js';
import { h, plain } from './dom.js';
import { bytes, duration, t } from './i18n.js';
import { saveButton, saveOnServer } from './jobs.js';
import { save } from './saver.js';
import { naming, settings } from './settings.js';
import { activity, transferView } from './transfer.js';

const GENERIC_SITES = new Set(['generic', 'html5mediaembed', '']);

/** A readable site name: the extractor's, or the link's host for generic pages. */
export function siteName(media) {
  if (!GENERIC_SITES.has(String(media.site || '').toLowerCase())) return plain(media.site);
  try {
    return new URL(media.webpage_url).host;
  } catch {
    return media.site;
  }
}

/** The picture of a media or entry, or a neutral placeholder when there is none. */
export function thumbnail(src, title, className = 'thumb') {
  const box = h('div', { class: className });
  if (src) {
    const img = h('img', { src, alt: t('media.thumbnail', { title }), decoding: 'async' });
    img.addEventListener('error', () => img.remove(), { once: true });
    box.append(img);
  }
  return box;
}

function sizeText(size) {
  return size ? t('choice.about', { size: bytes(size) }) : '';
}

/** One choice; video and audio are two radio groups (each its own Tab stop), one checked in all. */
function option(group, value, main, sub, { checked = false, recommended = false } = {}) {
  return h('label', { class: 'opt' },
    h('input', { type: 'radio', name: group, value, checked }),
    h('span', { class: 'opt-main' }, main),
    sub ? h('span', { class: 'opt-sub' }, sub) : null,
    recommended ? h('span', { class: 'badge' }, t('choice.recommended')) : null);
}

function videoLabel(choice) {
  return choice.height ? `${choice.height}p` : t('choice.best');
}

function audioLabel(choice) {
  if (choice.format === 'best') return t('choice.audio.best', { ext: choice.ext.toUpperCase() });
  return t(`choice.audio.${choice.format}`);
}

/** The video choice the settings ask for: the recommended one, the best, or the nearest height
 * not above the one asked (the lowest when all are above). */
function preferredVideo(choices, wanted) {
  const { video } = choices;
  if (wanted === 'best') return video.find((v) => v.quality === 'best') || video[0];
  const height = Number(wanted);
  if (!height) return video.find((v) => v.quality === choices.default_quality) || video[0];
  const fits = video.filter((v) => v.height && v.height <= height);
  const sized = video.filter((v) => v.height);
  if (fits.length) return fits.reduce((a, b) => (b.height > a.height ? b : a));
  return sized.length ? sized.reduce((a, b) => (b.height < a.height ? b : a)) : video[0];
}

function defaultValue(choices, remembered) {
  const values = [...choices.video.map((v) => `v:${v.quality}`),
    ...choices.audio.map((a) => `a:${a.format}`)];
  if (remembered && values.includes(remembered.value)) return remembered.value;
  const chosen = settings();
  if (choices.video.length) return `v:${preferredVideo(choices, chosen.quality).quality}`;
  if (!choices.audio.length) return null;
  const audio = distinctAudio(choices.audio);
  return `a:${(audio.find((a) => a.format === chosen.audio) || audio[0]).format}`;
}

function videoFieldset(choices, initial, muted) {
  const options = choices.video.map((v) => {
    const extra = [sizeText(v.size), v.fps > 30 ? t('choice.fps', { fps: Math.round(v.fps) }) : ''];
    return option('video', `v:${v.quality}`, videoLabel(v), extra.filter(Boolean).join(' · '), {
      checked: initial === `v:${v.quality}`,
      recommended: v.quality === choices.default_quality,
    });
  });
  const mute = choices.mute
    ? h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'mute', checked: muted, 'aria-describedby': 'mute-hint' }),
      h('span', {}, t('choice.mute')),
      h('span', { class: 'hint', id: 'mute-hint' }, t('choice.mute_hint')))
    : null;
  return h('fieldset', { class: 'group' },
    h('legend', {}, t('choice.video')), h('div', { class: 'options' }, options), mute);
}

/** The audio choices that differ: a format that copies what "best" copies is the same file. */
function distinctAudio(audio) {
  const best = audio.find((a) => a.format === 'best' && !a.transcode);
  return audio.filter((a) => !best || a === best || a.transcode || a.ext !== best.ext);
}

function audioFieldset(choices, initial) {
  const options = distinctAudio(choices.audio).map((a) => option('audio', `a:${a.format}`,
    audioLabel(a),
    [sizeText(a.size), a.transcode ? t('choice.converted') : ''].filter(Boolean).join(' · '),
    { checked: initial === `a:${a.format}` }));
  return h('fieldset', { class: 'group' },
    h('legend', {}, t('choice.audio')), h('div', { class: 'options' }, options));
}

function checkedValue(form) {
  const box = form.querySelector('input[type=radio]:checked');
  return box ? box.value : '';
}

/** What the form asks for: the request body's choice and the button's words. */
function selection(form, choices, fallback) {
  const value = checkedValue(form) || fallback;
  const mute = Boolean(form.elements.mute?.checked);
  if (value.startsWith('a:')) {
    const audio = choices.audio.find((a) => `a:${a.format}` === value);
    const format = audioLabel(audio);
    return {
      value, mute: false, audio: true, format,
      body: { audio: audio.format },
      label: t('download.audio', { format }),
    };
  }
  const video = choices.video.find((v) => `v:${v.quality}` === value);
  const words = { quality: videoLabel(video), ext: 'MP4' };
  return {
    value, mute, audio: false,
    body: { quality: video.quality, container: 'mp4', mute },
    label: t(mute ? 'download.video_mute' : 'download.video', words),
  };
}

function facts(media) {
  const rows = [[t('media.site'), siteName(media)]];
  if (media.uploader) rows.push([t('media.uploader'), plain(media.uploader)]);
  if (media.duration) rows.push([t('media.duration'), duration(media.duration)]);
  return h('dl', { class: 'facts' },
    rows.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

/** The card of one media, ready for a download. */
export function renderMedia(media, { url, item = null, ui }) {
  const choices = media.choices || { video: [], audio: [], mute: false, default_quality: null };
  const remembered = rememberedChoice(url, item);
  const initial = defaultValue(choices, remembered);
  const name = plain(media.title);
  const title = h('h2', { id: 'media-title', tabindex: '-1' }, name);
  const head = h('div', { class: 'media-head' },
    thumbnail(media.thumbnail, name),
    h('div', { class: 'media-info' }, title, facts(media)));
  if (!initial) {
    return h('article', { class: 'card' }, head, h('p', { class: 'hint' }, t('choice.none')));
  }
  const button = h('button', { class: 'primary wide', type: 'submit' });
  let keeping = false;
  const keep = async () => {
    if (keeping) return;
    keeping = true;
    ui.clear();
    try {
      const chosen = selection(form, choices, initial);
      await saveOnServer({ url, item, ...chosen.body, ...naming() });
      ui.announce(t('jobs.added', { title: name }));
    } catch (err) {
      ui.fail(err, keep);
    } finally {
      keeping = false;
    }
  };
  const groups = [];
  if (choices.video.length) groups.push(videoFieldset(choices, initial, Boolean(remembered?.mute)));
  if (choices.audio.length) groups.push(audioFieldset(choices, initial));
  const form = h('form', { class: 'choices', 'aria-label': t('choice.legend') }, groups, button,
    saveButton(t('jobs.save'), keep));
  const transfer = transferView();

  const refresh = () => {
    const chosen = selection(form, choices, initial);
    button.textContent = chosen.label;
    if (form.elements.mute) form.elements.mute.disabled = chosen.audio;
    rememberChoice(url, item, { value: chosen.value, mute: chosen.mute });
  };
  form.addEventListener('change', (event) => {
    if (event.target.type === 'radio') { // one choice in both groups
      for (const box of form.querySelectorAll('input[type=radio]:checked')) {
        if (box !== event.target) box.checked = false;
      }
    }
    refresh();
  });
  refresh();

  let running = false;
  const download = async () => {
    if (running) return;
    const chosen = selection(form, choices, initial);
    ui.clear();
    running = true; // not `disabled`: a disabled button drops the focus to the page's body
    button.setAttribute('aria-disabled', 'true');
    transfer.reset();
    ui.announce(t('status.preparing'));
    try {
      const ticket = await prepare({ url, item, ...chosen.body, ...naming() });
      transfer.begin(activity(ticket, chosen));
      await save(ticket, (state) => {
        const news = transfer.update(state);
        if (news) ui.announce(news);
      });
      const done = t('status.done', { filename: ticket.filename });
      transfer.finish(done);
      ui.announce(done);
      button.textContent = t('download.again');
    } catch (err) {
      transfer.root.hidden = true;
      ui.fail(err, download);
    } finally {
      running = false;
      button.removeAttribute('aria-disabled');
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    download();
  });
  return h('article', { class: 'card', 'aria-labelledby': 'media-title' }, head, form, transfer.root);
}
