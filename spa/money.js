// Money is integer cents everywhere; dollars exist only as text typed or shown.
// Parsing works on the digits as text, so "0.29" is 29 cents, never 28.999...

const DOLLARS = /^(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d*))?$/;
export const MAX_CENTS = 99999999999; // $999,999,999.99: well inside exact integers

/** "1,000.50" -> 100050. Throws Error with a message for the crew when it is not money. */
export function parseDollars(text) {
  const raw = String(text ?? "").trim().replace(/^\$\s*/, "");
  const m = DOLLARS.exec(raw);
  if (!raw || !m || (!m[1] && !m[2])) throw new Error("Enter an amount like 25 or 12.50");
  const frac = m[2] ?? "";
  if (frac.length > 2) throw new Error("Use at most two digits for cents");
  const whole = m[1].replace(/,/g, "") || "0";
  if (whole.length > 9) throw new Error("That amount is too large");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** A positive amount of money: parseDollars that also refuses zero. */
export function parsePositiveDollars(text) {
  const cents = parseDollars(text);
  if (cents <= 0) throw new Error("The amount must be more than $0.00");
  return cents;
}

/** 123456 -> "$1,234.56"; -500 -> "-$5.00". */
export function formatCents(cents) {
  const n = Number(cents);
  if (!Number.isInteger(n)) return "—";
  const abs = Math.abs(n);
  const dollars = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+$)/g, ",");
  return `${n < 0 ? "-" : ""}$${dollars}.${String(abs % 100).padStart(2, "0")}`;
}

/** Cents as text for an input field: 1250 -> "12.50", 1200 -> "12". */
export function centsToInput(cents) {
  if (!Number.isInteger(cents)) return "";
  const rest = cents % 100;
  return `${Math.floor(cents / 100)}${rest ? "." + String(rest).padStart(2, "0") : ""}`;
}
