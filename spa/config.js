// Deployment settings for the dispatch page. The staging slot ships its own copy.
// API_BASE: where the API lives; "" means the same origin as this page (/api/...).
export const API_BASE = "";
// The operator's time zone: the board's "today" is computed in it. Keep it equal to
// OPERATOR_TZ in .chalice/config.json.
export const OPERATOR_TZ = "America/Los_Angeles";
