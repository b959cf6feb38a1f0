"""The elderly-friendly rules (适老化), measured in the browser on whatever screen is showing.

Computed styles and bounding boxes come from the page itself; contrast is computed from the computed colours
(WCAG relative luminance), against the nearest ancestor with a background.
"""

from __future__ import annotations

from typing import Any

from selenium import webdriver

from tests.browser import save_screenshot

MIN_TEXT_PX = 32
MIN_CONTRAST = 7.0
MIN_LINE_SPACING = 1.3
SAFE = 0.05

_MEASURE = r"""
function rgba(s) { var m = s.match(/[\d.]+/g) || [0, 0, 0, 0]; return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; }
function lum(c) {
  function ch(v) { v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
}
function background(el) {
  for (var p = el; p; p = p.parentElement) {
    var c = rgba(getComputedStyle(p).backgroundColor);
    if (c[3] > 0.5) { return c; }
  }
  return [255, 255, 255, 1];
}
function shown(el) {
  for (var p = el; p; p = p.parentElement) {
    var s = getComputedStyle(p);
    if (s.display === 'none' || s.visibility === 'hidden') { return false; }
  }
  return true;
}
/* The part of an element that can be seen: its box cut by every ancestor that clips (overflow not visible). */
function seen(el) {
  var r = el.getBoundingClientRect();
  var box = {l: r.left, t: r.top, r: r.right, b: r.bottom};
  for (var p = el.parentElement; p; p = p.parentElement) {
    if (getComputedStyle(p).overflow !== 'visible' && p !== document.body && p !== document.documentElement) {
      var q = p.getBoundingClientRect();
      box = {l: Math.max(box.l, q.left), t: Math.max(box.t, q.top), r: Math.min(box.r, q.right), b: Math.min(box.b, q.bottom)};
    }
  }
  box.l = Math.max(box.l, 0); box.t = Math.max(box.t, 0);
  box.r = Math.min(box.r, innerWidth); box.b = Math.min(box.b, innerHeight);
  return box.r - box.l > 1 && box.b - box.t > 1 ? box : null;
}
var texts = [], problems = [];
var all = document.body.getElementsByTagName('*');
for (var i = 0; i < all.length; i++) {
  var el = all[i];
  if (el.tagName === 'SCRIPT' || el.tagName === 'STYLE' || !shown(el)) { continue; }
  var own = '';
  for (var n = el.firstChild; n; n = n.nextSibling) { if (n.nodeType === 3) { own += n.nodeValue; } }
  own = own.replace(/\s+/g, '');
  var box = seen(el);
  /* Content must stay inside the safe area: text, pictures, video and what can take the focus; a plain
     background (the alert's dark backdrop) may fill the screen. */
  var content = own || el.tagName === 'IMG' || el.tagName === 'VIDEO' || (' ' + el.className + ' ').indexOf(' focusable ') >= 0;
  if (box && content && (box.l < innerWidth * 0.05 - 0.5 || box.r > innerWidth * 0.95 + 0.5 ||
              box.t < innerHeight * 0.05 - 0.5 || box.b > innerHeight * 0.95 + 0.5)) {
    problems.push('outside the safe area: ' + el.tagName + '#' + el.id + '.' + el.className + ' ' + JSON.stringify(box));
  }
  if (!own || !box) { continue; }
  var s = getComputedStyle(el);
  var size = parseFloat(s.fontSize);
  var lh = s.lineHeight === 'normal' ? 0 : parseFloat(s.lineHeight);
  var fg = rgba(s.color), bg = background(el);
  var l1 = lum(fg), l2 = lum(bg);
  var contrast = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  texts.push({text: own.slice(0, 20), size: size, spacing: lh / size, contrast: contrast});
}
var f = window.TV && TV.focused();
var ring = f ? getComputedStyle(f) : null;
var popups = [];
for (var j = 0; j < all.length; j++) {
  if (getComputedStyle(all[j]).position === 'fixed' && shown(all[j]) && all[j].id !== 'alert') { popups.push(all[j].id || all[j].className); }
}
return {texts: texts, problems: problems, popups: popups,
        focus: f ? {id: f.id, outline: parseFloat(ring.outlineWidth), style: ring.outlineStyle, seen: !!seen(f)} : null,
        viewport: [innerWidth, innerHeight]};
"""


def measure(driver: webdriver.Chrome) -> dict[str, Any]:
    result: dict[str, Any] = driver.execute_script(_MEASURE)
    return result


def check_screen(driver: webdriver.Chrome, name: str) -> dict[str, Any]:
    """Save a screenshot of the screen for review and assert every rule; returns the figures measured."""
    save_screenshot(driver, name)
    m = measure(driver)
    assert m["viewport"] == [1280, 720], m["viewport"]
    assert m["texts"], f"{name}: no text on the screen"
    small = [t for t in m["texts"] if t["size"] < MIN_TEXT_PX]
    assert not small, f"{name}: text under {MIN_TEXT_PX} px: {small[:5]}"
    dim = [t for t in m["texts"] if t["contrast"] < MIN_CONTRAST]
    assert not dim, f"{name}: contrast under {MIN_CONTRAST}:1: {dim[:5]}"
    tight = [t for t in m["texts"] if t["spacing"] < MIN_LINE_SPACING]
    assert not tight, f"{name}: line spacing under {MIN_LINE_SPACING}: {tight[:5]}"
    assert not m["problems"], f"{name}: {m['problems'][:5]}"
    assert not m["popups"], f"{name}: something pops up over the page: {m['popups']}"
    focus = m["focus"]
    assert focus and focus["style"] != "none" and focus["outline"] >= 4 and focus["seen"], f"{name}: focus not visible: {focus}"
    return {"screen": name, "min_text_px": min(t["size"] for t in m["texts"]),
            "min_contrast": round(min(t["contrast"] for t in m["texts"]), 2),
            "min_line_spacing": round(min(t["spacing"] for t in m["texts"]), 2)}
