// Progress of one transfer: a bar, what the server is doing, and how far it got, in units a
// person reads. A size that is only an estimate is not shown: the bar would jump at the end.
import { h } from './dom.js';
import { bytes, speed, t } from './i18n.js';

/** What the server does for a DownloadOut, in words: converting, joining, or passing on. */
export function activity(ticket, { format = '', mute = false } = {}) {
  const ext = String(ticket.ext || '').toUpperCase();
  if (ticket.kind === 'audio') {
    return ticket.mode === 'transcode'
      ? t('status.doing.audio_convert', { format: format || ext })
      : t('status.doing.audio');
  }
  if (mute) return t('status.doing.mute');
  if (ticket.mode === 'transcode') return t('status.doing.video_convert', { ext });
  if (ticket.mode === 'remux') return t('status.doing.join', { ext });
  return t('status.doing.video');
}

function amount(state) {
  const sent = bytes(state.sent || 0);
  const exact = state.total && !state.estimated;
  const line = exact
    ? t('status.progress', { sent, total: bytes(state.total) })
    : t('status.progress_unknown', { sent });
  return state.stage === 'progress' && state.speed > 0 ? `${line} · ${speed(state.speed)}` : line;
}

/** A bar and two lines of text, fed with the server's states. */
export function transferView() {
  const bar = h('progress', { 'aria-label': t('download.label') });
  const doing = h('p', { class: 'transfer-doing' });
  const text = h('p', { class: 'transfer-text' });
  const root = h('div', { class: 'transfer', hidden: true }, bar, doing, text);
  let lastStage = '';
  return {
    root,
    reset() {
      root.hidden = false;
      bar.removeAttribute('value');
      doing.textContent = '';
      text.textContent = t('status.preparing');
      lastStage = '';
    },
    /** What this transfer is (`activity`), shown until it ends. */
    begin(words) {
      doing.textContent = words;
    },
    say(message) {
      text.textContent = message;
    },
    finish(message) {
      bar.max = 1;
      bar.value = 1;
      doing.textContent = '';
      text.textContent = message;
    },
    /** Returns a sentence worth announcing when the stage changed, else ''. */
    update(state) {
      if (state.stage === 'progress' || state.stage === 'done') {
        if (state.total && !state.estimated) {
          bar.max = state.total;
          bar.value = Math.min(state.sent || 0, state.total);
        } else {
          bar.removeAttribute('value');
        }
        text.textContent = amount(state);
      } else if (state.stage === 'queued') {
        text.textContent = t('status.line', { count: state.position });
      } else if (state.stage === 'start') {
        text.textContent = t('status.receiving');
      }
      const changed = state.stage !== lastStage;
      lastStage = state.stage;
      if (!changed) return '';
      const said = { mux: doing.textContent, queued: text.textContent };
      return { ...said, start: t('status.receiving') }[state.stage] || '';
    },
  };
}
