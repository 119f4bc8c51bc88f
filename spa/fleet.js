// The fleet on the trip form (loaded with import() when the form opens): the Boat field
// suggests the fleet's boats, and a boat of the fleet is sent as its boat_id, so the API
// holds the trip's capacity to that boat's passenger limit. Any other name stays free text.
import { apiFetch } from "./api.js";
import { h } from "./ui.js";

let boats = null; // null until the fleet is loaded

export async function attachFleet(input) {
  try {
    boats = (await apiFetch("/api/boats"))?.boats ?? [];
  } catch {
    boats = null; // offline or refused: the field stays free text, boat_id is left alone
    return;
  }
  let list = document.getElementById("fleet-boats");
  if (!list) {
    list = h("datalist", { id: "fleet-boats" });
    input.after(list);
  }
  list.replaceChildren(...boats.map((b) => h("option", { value: b.name },
    `${b.passenger_limit} passengers${b.inspected ? "" : " (six-pack)"}`)));
  input.setAttribute("list", "fleet-boats");
}

/** The boat_id for a name on the Boat field: an id, null (not of the fleet), or
 *  undefined while the fleet is unknown (then the form leaves boat_id as it is). */
export function boatIdFor(name) {
  if (boats === null) return undefined;
  const wanted = name.trim().toLowerCase();
  return boats.find((b) => b.name.toLowerCase() === wanted)?.id ?? null;
}
