// The waiver link for patrons at the dock: a full-screen QR code (an SVG the app draws
// with segno, shown as an image) and Share (the Web Share API, else sms: and mailto:).
import { session } from "./api.js";
import { API_BASE } from "./config.js";
import { toast, useStyles } from "./forms.js";
import { h } from "./ui.js";

const origin = () => API_BASE || location.origin;
export const waiverLink = (t) => `${origin()}/g/${encodeURIComponent(t.id)}/waiver`;
const message = (t) => `Please sign the waiver for ${t.title} before we cast off:`;

let shown = null; // {screen, url, opener}

function close() {
  if (!shown) return;
  const { screen, url, opener } = shown;
  shown = null;
  screen.remove();
  URL.revokeObjectURL(url);
  for (const el of document.querySelectorAll("body > :not(.qr-screen)")) el.inert = false;
  opener?.focus?.();
}

/** A full-screen QR code of the trip's waiver link. */
export async function showQr(t) {
  useStyles("dock.css");
  const opener = document.activeElement;
  const token = session()?.token;
  let res;
  try {
    res = await fetch(`${API_BASE}/api/events/${encodeURIComponent(t.id)}/waiver-qr.svg?origin=${encodeURIComponent(origin())}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store", credentials: "omit",
      // The page's own referrer policy is no-referrer; the API needs this page's origin
      // (and only that) to know the QR code is for this site.
      referrerPolicy: "strict-origin",
    });
  } catch {
    return toast("No connection: the QR code could not be loaded.");
  }
  if (!res.ok) return toast(`The QR code could not be loaded (${res.status}).`);
  // An image of our own SVG through a blob: URL, never markup put into the page.
  const url = URL.createObjectURL(new Blob([await res.blob()], { type: "image/svg+xml" }));
  const closeButton = h("button", { type: "button", class: "primary", onclick: close }, "Close");
  const screen = h("div", { class: "qr-screen", role: "dialog", "aria-modal": "true", "aria-labelledby": "qr-title" },
    h("h2", { id: "qr-title" }, "Scan to sign the waiver"),
    h("p", { class: "sub" }, t.title),
    h("img", { src: url, alt: `QR code of the waiver link for ${t.title}`, id: "qr-image" }),
    h("p", { class: "qr-link" }, waiverLink(t)),
    h("div", { class: "buttons" },
      h("button", { type: "button", onclick: () => shareLink(t, screen.querySelector(".qr-share")) }, "Share link"),
      closeButton),
    h("div", { class: "qr-share" }));
  screen.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  for (const el of document.querySelectorAll("body > *")) el.inert = true;
  document.body.append(screen);
  shown = { screen, url, opener };
  closeButton.focus();
}

/** Share the link: the phone's share sheet, else text and email links with it prefilled. */
export async function shareLink(t, fallbackInto) {
  const link = waiverLink(t);
  const text = message(t);
  if (navigator.share) {
    try {
      await navigator.share({ title: `Waiver: ${t.title}`, text, url: link });
      return;
    } catch (e) {
      if (e?.name === "AbortError") return; // the crew closed the share sheet
    }
  }
  const body = `${text} ${link}`;
  fallbackInto?.replaceChildren(h("div", { class: "actions share-links" },
    h("a", { class: "button", href: `sms:?&body=${encodeURIComponent(body)}`, id: "share-sms" }, "Text message"),
    h("a", { class: "button", href: `mailto:?subject=${encodeURIComponent(`Waiver: ${t.title}`)}&body=${encodeURIComponent(body)}`, id: "share-email" }, "Email")));
  fallbackInto?.querySelector("a")?.focus();
}
