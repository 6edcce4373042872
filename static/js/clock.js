// Times as the reader reads them: in the account's zone (else the browser's) and the page's language. Pushed
// messages are rendered once for everyone, in UTC; the page writes their times here.
const lang = document.documentElement.lang;
const timeZone = document.body?.dataset.timeZone || undefined;

const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone });
const full = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", timeZone });
const longDate = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeZone });
const dayOf = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone });
const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });

export const timeOfDay = (date) => clock.format(date);
export const dateAndTime = (date) => full.format(date);

// The reader's calendar day of a moment, comparable as text ("2026-11-28").
export const day = (date) => dayOf.format(date);

// "Today", "Yesterday", else the full date ("Friday, 27 November 2026", "2026年11月27日星期五").
export function dayLabel(date) {
  const now = new Date();
  for (const back of [0, 1]) {
    if (day(date) === day(new Date(now - back * 86_400_000))) {
      const word = relative.format(-back, "day");
      return word.charAt(0).toLocaleUpperCase(lang) + word.slice(1);
    }
  }
  return longDate.format(date);
}
