// The page's words: the catalog the server embedded, and numbers, sizes and times in its language.
const messages = JSON.parse(document.getElementById('messages').textContent);
export const lang = document.documentElement.lang || 'en';
const plurals = new Intl.PluralRules(lang);

/** The message `key` with its {name} placeholders filled; `count` picks `.one` / `.other`. */
export function t(key, values = {}) {
  let text = messages[key];
  if (text === undefined && 'count' in values) {
    text = messages[`${key}.${plurals.select(values.count)}`] ?? messages[`${key}.other`];
  }
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Whether the catalog has `key` (error codes the page may not know yet). */
export const has = (key) => key in messages;

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
const formats = new Map();
function formatter(unit, digits) {
  const id = `${unit}/${digits}`;
  if (!formats.has(id)) {
    formats.set(id, new Intl.NumberFormat(lang, {
      style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: digits,
    }));
  }
  return formats.get(id);
}

/** 12.3 MB, 0.1 kB (decimal units, as browsers show downloads; never bare bytes, which read
 * oddly as "148 byte"). */
export function bytes(n, suffix = '') {
  let value = Math.max(0, Number(n) || 0) / 1000;
  let step = 1;
  while (value >= 1000 && step < UNITS.length - 1) { value /= 1000; step += 1; }
  if (value > 0 && value < 0.1) value = 0.1;
  const digits = value === 0 || value >= 100 ? 0 : 1;
  return formatter(UNITS[step] + suffix, digits).format(value);
}

/** 1.2 MB/s */
export const speed = (n) => bytes(n, '-per-second');

/** 3:07 or 1:02:07 */
export function duration(seconds) {
  const total = Math.round(Number(seconds) || 0);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export const number = (n) => new Intl.NumberFormat(lang).format(n);
