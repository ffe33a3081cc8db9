// The person's defaults, kept in this browser (localStorage): the quality and audio format picked
// first, the file name style and whether tags go into the file; and the API key for server jobs.
const KEY = 'mediadl.settings';
const API_KEY = 'mediadl.apiKey';
const DEFAULTS = { quality: 'auto', audio: 'mp3', name: 'quality', metadata: true };

/** File name templates the server fills ({title}, {quality}, …; empty brackets are dropped). */
const NAMES = {
  quality: '{title} ({quality})',
  title: '{title}',
  full: '{title} - {uploader} ({quality}, {site})',
};

function read() {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(KEY) || '{}') };
  } catch {
    return { ...DEFAULTS };
  }
}

/** The current settings: {quality, audio, name, metadata}. */
export function settings() {
  return read();
}

/** The request's naming and tagging fields; `title` names the file instead of the site's. */
export function naming(title = null) {
  const chosen = read();
  let template = NAMES[chosen.name] || NAMES.quality;
  if (title) {
    const literal = title.slice(0, 120).replace(/[{}]/g, (brace) => brace + brace);
    template = template.replace('{title}', literal);
  }
  return { filename: template, metadata: chosen.metadata !== false };
}

/** The API key that server jobs go with ('' when none was given). */
export function apiKey() {
  try {
    return localStorage.getItem(API_KEY) || '';
  } catch {
    return '';
  }
}

/** Keep `key` for the next visits ('' forgets it). */
export function keepApiKey(key) {
  try {
    if (key) localStorage.setItem(API_KEY, key);
    else localStorage.removeItem(API_KEY);
  } catch {
    // storage refused: the page asks again next time
  }
}

const form = document.getElementById('settings-form');
if (form) {
  const current = read();
  for (const [name, value] of Object.entries(current)) {
    const field = form.elements[name];
    if (!field) continue;
    if (field.type === 'checkbox') field.checked = Boolean(value);
    else field.value = String(value);
  }
  form.addEventListener('change', () => {
    const saved = {
      quality: form.elements.quality.value,
      audio: form.elements.audio.value,
      name: form.elements.name.value,
      metadata: form.elements.metadata.checked,
    };
    try {
      localStorage.setItem(KEY, JSON.stringify(saved));
    } catch {
      // storage refused (private mode, full): the choice holds for this page only
    }
  });
  form.addEventListener('submit', (event) => event.preventDefault());
}
