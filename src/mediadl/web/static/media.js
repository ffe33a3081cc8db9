// One video or sound: its preview, the choices it really has, and the download of one of them.
import { prepare } from './api.js';
import { h, plain } from './dom.js';
import { bytes, duration, speed, t } from './i18n.js';
import { save } from './saver.js';

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

function option(value, main, sub, { checked = false, recommended = false } = {}) {
  return h('label', { class: 'opt' },
    h('input', { type: 'radio', name: 'choice', value, checked }),
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

function defaultValue(choices) {
  if (choices.video.length) {
    const pick = choices.video.find((v) => v.quality === choices.default_quality);
    return `v:${(pick || choices.video[0]).quality}`;
  }
  return choices.audio.length ? `a:${choices.audio[0].format}` : null;
}

function videoFieldset(choices, initial) {
  const options = choices.video.map((v) => {
    const extra = [sizeText(v.size), v.fps > 30 ? t('choice.fps', { fps: Math.round(v.fps) }) : ''];
    return option(`v:${v.quality}`, videoLabel(v), extra.filter(Boolean).join(' · '), {
      checked: initial === `v:${v.quality}`,
      recommended: v.quality === choices.default_quality,
    });
  });
  const mute = choices.mute
    ? h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'mute', 'aria-describedby': 'mute-hint' }),
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
  const options = distinctAudio(choices.audio).map((a) => option(`a:${a.format}`, audioLabel(a),
    [sizeText(a.size), a.transcode ? t('choice.converted') : ''].filter(Boolean).join(' · '),
    { checked: initial === `a:${a.format}` }));
  return h('fieldset', { class: 'group' },
    h('legend', {}, t('choice.audio')), h('div', { class: 'options' }, options));
}

/** What the form asks for: the request body's choice and the button's words. */
function selection(form, choices) {
  const value = form.elements.choice.value || defaultValue(choices);
  const mute = Boolean(form.elements.mute?.checked);
  if (value.startsWith('a:')) {
    const audio = choices.audio.find((a) => `a:${a.format}` === value);
    return { body: { audio: audio.format }, label: t('download.audio', { format: audioLabel(audio) }), audio: true };
  }
  const video = choices.video.find((v) => `v:${v.quality}` === value);
  const words = { quality: videoLabel(video), ext: 'MP4' };
  return {
    body: { quality: video.quality, container: 'mp4', mute },
    label: t(mute ? 'download.video_mute' : 'download.video', words),
    audio: false,
  };
}

function facts(media) {
  const rows = [[t('media.site'), siteName(media)]];
  if (media.uploader) rows.push([t('media.uploader'), plain(media.uploader)]);
  if (media.duration) rows.push([t('media.duration'), duration(media.duration)]);
  return h('dl', { class: 'facts' },
    rows.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

/** Progress of one transfer: a bar and a line of text, fed with the server's states. */
export function transferView() {
  const bar = h('progress', { 'aria-label': t('download.label') });
  const text = h('p', { class: 'transfer-text' });
  const root = h('div', { class: 'transfer', hidden: true }, bar, text);
  let lastStage = '';
  return {
    root,
    reset() {
      root.hidden = false;
      bar.removeAttribute('value');
      text.textContent = t('status.preparing');
      lastStage = '';
    },
    say(message) {
      text.textContent = message;
    },
    finish(message) {
      bar.max = 1;
      bar.value = 1;
      text.textContent = message;
    },
    /** Returns a sentence worth announcing when the stage changed, else ''. */
    update(state) {
      if (state.stage === 'progress' || state.stage === 'done') {
        const sent = state.sent || 0;
        if (state.total) {
          bar.max = state.total;
          bar.value = Math.min(sent, state.total);
        }
        const key = !state.total ? 'status.progress_unknown'
          : state.estimated ? 'status.progress_about' : 'status.progress';
        text.textContent = t(key, {
          sent: bytes(sent), total: bytes(state.total || 0), speed: speed(state.speed || 0),
        });
      } else if (state.stage === 'mux') {
        text.textContent = t('status.muxing');
      } else if (state.stage === 'start') {
        text.textContent = t('status.receiving');
      }
      const changed = state.stage !== lastStage;
      lastStage = state.stage;
      if (!changed) return '';
      return { mux: t('status.muxing'), start: t('status.receiving') }[state.stage] || '';
    },
  };
}

/** The card of one media, ready for a download. */
export function renderMedia(media, { url, item = null, ui }) {
  const choices = media.choices || { video: [], audio: [], mute: false, default_quality: null };
  const initial = defaultValue(choices);
  const name = plain(media.title);
  const title = h('h2', { id: 'media-title', tabindex: '-1' }, name);
  const head = h('div', { class: 'media-head' },
    thumbnail(media.thumbnail, name),
    h('div', { class: 'media-info' }, title, facts(media)));
  if (!initial) {
    return h('article', { class: 'card' }, head, h('p', { class: 'hint' }, t('choice.none')));
  }
  const button = h('button', { class: 'primary wide', type: 'submit' });
  const groups = [];
  if (choices.video.length) groups.push(videoFieldset(choices, initial));
  if (choices.audio.length) groups.push(audioFieldset(choices, initial));
  const form = h('form', { class: 'choices', 'aria-label': t('choice.legend') }, groups, button);
  const transfer = transferView();

  const refresh = () => {
    const chosen = selection(form, choices);
    button.textContent = chosen.label;
    if (form.elements.mute) form.elements.mute.disabled = chosen.audio;
  };
  form.addEventListener('change', refresh);
  refresh();

  const download = async () => {
    const chosen = selection(form, choices);
    ui.clear();
    button.disabled = true;
    transfer.reset();
    ui.announce(t('status.preparing'));
    try {
      const ticket = await prepare({ url, item, ...chosen.body });
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
      button.disabled = false;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    download();
  });
  return h('article', { class: 'card', 'aria-labelledby': 'media-title' }, head, form, transfer.root);
}
