// What waits on the phone to be sent (payments, boarding taps, receipts not sent), said
// in the header on every screen and on the board's cards, and sent whenever there may
// be signal. Loaded beside the board, not before it: nothing of it is needed to draw.
import { session } from "./api.js";
import { showSaved } from "./board.js";
import * as outbox from "./outbox.js";
import { $ } from "./ui.js";

const RETRY_MS = 20000;
const SOON_MS = 3000;

/** "N waiting to send" in the header, on every screen. */
async function countSaved() {
  const [all, marks, notes] = await Promise.all([outbox.saved(), outbox.queuedMarks(), outbox.notes()]);
  showSaved(all);
  const waiting = all.filter((p) => !p.refused).length;
  const refused = all.length - waiting;
  const taps = marks.filter((m) => !m.refused).length;
  const el = $("#outbox-count");
  el.textContent = [
    waiting && `${waiting} waiting to send`,
    refused && `${refused} not logged`,
    taps && `${taps} boarding ${taps === 1 ? "tap" : "taps"} waiting`,
    notes.length && `${notes.length} ${notes.length === 1 ? "receipt" : "receipts"} not sent`,
  ].filter(Boolean).join(" · ");
  el.hidden = !el.textContent;
  return waiting + taps;
}

/** Send what waits, when there may be signal. */
export async function sendSaved() {
  const waiting = await countSaved();
  if (waiting && session() && navigator.onLine !== false) await outbox.flush();
}

/** Send on signal and every RETRY_MS; `redraw` when the queue changed (some went). */
export function watch(redraw) {
  window.addEventListener("online", sendSaved);
  setInterval(sendSaved, RETRY_MS);
  outbox.onOutboxChange(() => {
    // Saved because an answer got lost with signal still up: try again soon.
    countSaved().then((waiting) => waiting && setTimeout(sendSaved, SOON_MS));
    redraw();
  });
}
