// Optional drawn signature. Without scripts the form works on its own: the typed name is
// the signature. Inlined into the page and allowed by its hash (see webpages.py).
const pad = document.getElementById("signature-pad");
const canvas = document.getElementById("signature-canvas");
const field = document.getElementById("signature_png");
const form = document.getElementById("waiver-form");
if (pad && canvas && field && form && canvas.getContext) {
  const ink = canvas.getContext("2d");
  let drawing = false;
  let drew = false;
  const blank = () => {
    ink.fillStyle = "#ffffff";
    ink.fillRect(0, 0, canvas.width, canvas.height);
    ink.lineWidth = 3;
    ink.lineCap = "round";
    ink.lineJoin = "round";
    ink.strokeStyle = "#111111";
    drew = false;
    field.value = "";
  };
  // The canvas is scaled by CSS: map the pointer into its own pixels.
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const p = at(event);
    ink.beginPath();
    ink.moveTo(p.x, p.y);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const p = at(event);
    ink.lineTo(p.x, p.y);
    ink.stroke();
    drew = true;
  });
  const stop = () => {
    drawing = false;
  };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  document.getElementById("signature-clear").addEventListener("click", blank);
  form.addEventListener("submit", () => {
    field.value = drew ? canvas.toDataURL("image/png") : "";
  });
  blank();
  pad.hidden = false;
}
