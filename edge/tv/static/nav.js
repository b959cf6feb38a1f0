/* Remote-control navigation for the TV app: the middleware's key map, spatial focus, OK, back and digits.
   Plain ES5 for old set-top-box browsers: no modules, no arrow functions, no let/const, no fetch. */
(function () {
  var TV = window.TV;
  var current = null;
  TV.actions = TV.actions || {};
  TV.onDigit = null;       /* a page may take number keys (forms, ratings, home shortcuts) */
  TV.alertOpen = false;    /* while an emergency alert is up, only OK does anything */

  function has(list, code) {
    for (var i = 0; i < list.length; i++) { if (list[i] === code) { return true; } }
    return false;
  }

  function keyName(code) {
    var map = TV.keymap;
    var names = ['up', 'down', 'left', 'right', 'ok', 'back'];
    for (var i = 0; i < names.length; i++) { if (has(map[names[i]], code)) { return names[i]; } }
    if (code >= 48 && code <= 57) { return 'digit'; }
    if (code >= 96 && code <= 105) { return 'digit'; }
    return null;
  }

  function hasClass(el, name) { return (' ' + el.className + ' ').indexOf(' ' + name + ' ') >= 0; }
  function addClass(el, name) { if (!hasClass(el, name)) { el.className = el.className + ' ' + name; } }
  function removeClass(el, name) {
    el.className = (' ' + el.className + ' ').replace(' ' + name + ' ', ' ').replace(/^\s+|\s+$/g, '');
  }
  TV.hasClass = hasClass; TV.addClass = addClass; TV.removeClass = removeClass;

  function visible(el) {
    if (!(el.offsetWidth || el.offsetHeight)) { return false; }
    for (var p = el; p && p !== document.body; p = p.parentNode) {
      if (p.className && hasClass(p, 'off')) { return false; }
    }
    return true;
  }

  function candidates() {
    var scope = TV.alertOpen ? document.getElementById('alert') : document.getElementById('screen');
    var all = scope.getElementsByTagName('*');
    var out = [];
    for (var i = 0; i < all.length; i++) {
      if (all[i].className && hasClass(all[i], 'focusable') && visible(all[i])) { out.push(all[i]); }
    }
    return out;
  }
  TV.candidates = candidates;

  function content() { return document.getElementById('content'); }

  /* Keep the focused element inside the scrolling content area, with room for its focus ring. */
  function reveal(el) {
    var box = content();
    if (!box || !box.contains(el)) { return; }
    var b = box.getBoundingClientRect();
    var r = el.getBoundingClientRect();
    if (r.bottom > b.bottom - 12) { box.scrollTop += r.bottom - b.bottom + 12; }
    if (r.top < b.top + 12) { box.scrollTop -= b.top + 12 - r.top; }
  }

  function setFocus(el) {
    if (!el) { return; }
    if (current) { removeClass(current, 'focused'); }
    current = el;
    addClass(el, 'focused');
    try { el.focus(); } catch (e) { /* some STB browsers refuse focus on anchors without href */ }
    reveal(el);
    /* On a phone the whole page scrolls (no content box): keep the focused element on the screen. */
    var r = el.getBoundingClientRect();
    var h = window.innerHeight || document.documentElement.clientHeight;
    if ((r.bottom > h || r.top < 0) && el.scrollIntoView) { el.scrollIntoView(r.top < 0); }
    if (!TV.alertOpen && el.id) {
      try { window.sessionStorage.setItem('focus:' + location.pathname, el.id); } catch (e2) { /* no storage */ }
    }
  }
  TV.focus = setFocus;
  TV.focused = function () { return current; };

  function centre(r) { return { x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2 }; }
  function gap(a1, a2, b1, b2) { return b1 > a2 ? b1 - a2 : (a1 > b2 ? a1 - b2 : 0); }

  function best(dir) {
    var a = current.getBoundingClientRect();
    var ca = centre(a);
    var list = candidates();
    var winner = null;
    var winnerScore = Infinity;
    for (var i = 0; i < list.length; i++) {
      var el = list[i];
      if (el === current) { continue; }
      var b = el.getBoundingClientRect();
      var cb = centre(b);
      var primary, cross, off;
      if (dir === 'down') {
        if (cb.y <= ca.y + 1 || b.bottom <= a.bottom) { continue; }
        primary = Math.max(0, b.top - a.bottom); cross = gap(a.left, a.right, b.left, b.right); off = Math.abs(cb.x - ca.x);
      } else if (dir === 'up') {
        if (cb.y >= ca.y - 1 || b.top >= a.top) { continue; }
        primary = Math.max(0, a.top - b.bottom); cross = gap(a.left, a.right, b.left, b.right); off = Math.abs(cb.x - ca.x);
      } else if (dir === 'right') {
        if (cb.x <= ca.x + 1 || b.right <= a.right) { continue; }
        primary = Math.max(0, b.left - a.right); cross = gap(a.top, a.bottom, b.top, b.bottom); off = Math.abs(cb.y - ca.y);
      } else {
        if (cb.x >= ca.x - 1 || b.left >= a.left) { continue; }
        primary = Math.max(0, a.left - b.right); cross = gap(a.top, a.bottom, b.top, b.bottom); off = Math.abs(cb.y - ca.y);
      }
      var score = primary + 4 * cross + 0.1 * off;
      if (score < winnerScore) { winnerScore = score; winner = el; }
    }
    return winner;
  }

  function scrollBy(dir) {
    var box = content();
    if (!box) { return false; }
    var before = box.scrollTop;
    var step = Math.round(box.clientHeight * 0.6);
    box.scrollTop = before + (dir === 'down' ? step : -step);
    return box.scrollTop !== before;
  }

  function move(dir) {
    if (!current || !visible(current)) { focusStart(); return; }
    var next = best(dir);
    var box = content();
    if ((dir === 'up' || dir === 'down') && box && !TV.alertOpen) {
      /* Long text between two buttons is read by scrolling first, not skipped. */
      var b = box.getBoundingClientRect();
      var far = !next || (dir === 'down' ? next.getBoundingClientRect().top > b.bottom + b.height * 0.2
                                         : next.getBoundingClientRect().bottom < b.top - b.height * 0.2);
      if (far && scrollBy(dir)) { return; }
    }
    if (next) { setFocus(next); }
  }

  function activate(el) {
    if (!el) { return; }
    var action = el.getAttribute('data-action');
    if (action === 'back') { goBack(); return; }
    if (action && TV.actions[action]) { TV.actions[action](el); return; }
    if (el.tagName === 'A' && el.getAttribute('href') && el.getAttribute('href') !== '#') {
      TV.leaving = true;
      location.href = el.getAttribute('href');
    }
  }
  TV.activate = activate;

  function goBack() {
    if (TV.onBack && TV.onBack()) { return; }
    if (TV.backUrl) { TV.leaving = true; location.href = TV.backUrl; }
  }
  TV.back = goBack;

  function onKey(e) {
    e = e || window.event;
    var code = e.keyCode || e.which;
    var target = e.target || e.srcElement;
    /* A phone's own keyboard typing in a text box: its letters, digits and Backspace are the box's, not the remote's. */
    if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT')) { return true; }
    var name = keyName(code);
    if (!name) { return true; }
    if (TV.alertOpen) {
      if (name === 'ok' && TV.ackAlert) { TV.ackAlert(); }
    } else if (name === 'ok') {
      activate(current);
    } else if (name === 'back') {
      goBack();
    } else if (name === 'digit') {
      var d = code >= 96 ? code - 96 : code - 48;
      if (TV.onDigit) { TV.onDigit(d); }
    } else {
      move(name);
    }
    if (e.preventDefault) { e.preventDefault(); }
    e.returnValue = false;
    return false;
  }

  function focusStart() {
    var saved = null;
    try { saved = window.sessionStorage.getItem('focus:' + location.pathname); } catch (e) { saved = null; }
    var el = saved ? document.getElementById(saved) : null;
    if (!el || !visible(el)) {
      var list = candidates();
      for (var i = 0; i < list.length && !el; i++) { if (hasClass(list[i], 'autofocus')) { el = list[i]; } }
      /* Else the first thing on the screen itself: the back button is always one press up. */
      var box = content();
      for (var j = 0; j < list.length && !el; j++) { if (box && box.contains(list[j])) { el = list[j]; } }
      el = el || list[0] || null;
    }
    setFocus(el);
  }
  TV.focusStart = focusStart;

  /* Touch and mouse (the phone page): a tap on a button runs the same action as OK on the remote. */
  function onClick(e) {
    e = e || window.event;
    var el = e.target || e.srcElement;
    while (el && el !== document.body && !(el.className && hasClass(el, 'focusable'))) { el = el.parentNode; }
    if (!el || el === document.body || !el.getAttribute) { return true; }
    var action = el.getAttribute('data-action');
    if (!action) { return true; }
    if (TV.alertOpen && action !== 'ack-alert') { return false; }
    setFocus(el);
    activate(el);
    if (e.preventDefault) { e.preventDefault(); }
    return false;
  }

  /* Plain XMLHttpRequest with JSON both ways; cb(status, body or null). */
  TV.request = function (method, url, body, cb, timeoutMs) {
    var xhr = new XMLHttpRequest();
    var done = false;
    function finish(status, text) {
      if (done) { return; }
      done = true;
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      cb(status, data);
    }
    xhr.open(method, url, true);
    /* Only an identified STB says who it is: a phone must not count as a set-top box in the status. */
    if (TV.middleware !== 'standard' && TV.device) { xhr.setRequestHeader('X-Device-Id', TV.device); }
    /* The token proves it: the box answers this device's submissions, votes and acknowledgements only with it. */
    if (TV.token) { xhr.setRequestHeader('X-Device-Token', TV.token); }
    if (body !== null) { xhr.setRequestHeader('Content-Type', 'application/json'); }
    xhr.onreadystatechange = function () { if (xhr.readyState === 4) { finish(xhr.status, xhr.responseText); } };
    var timer = setTimeout(function () { try { xhr.abort(); } catch (e) { /* gone */ } finish(0, ''); },
                           timeoutMs || 15000);
    xhr.onload = function () { clearTimeout(timer); };
    xhr.send(body === null ? null : JSON.stringify(body));
    return xhr;
  };

  TV.uuid = function () {
    var hex = '0123456789abcdef';
    var s = '';
    for (var i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) { s += '-'; }
      else if (i === 14) { s += '4'; }
      else if (i === 19) { s += hex.charAt(8 + Math.floor(Math.random() * 4)); }
      else { s += hex.charAt(Math.floor(Math.random() * 16)); }
    }
    return s;
  };

  var strings = TV.text;
  TV.text = function (key, values) {
    var s = strings[key] || key;
    if (values) { for (var k in values) { if (values.hasOwnProperty(k)) { s = s.split('{' + k + '}').join(values[k]); } } }
    return s;
  };

  /* Who this TV is: the box issues an id and a secret token at the first start (POST /api/v1/devices), and the
     page keeps the token in a cookie (which the box reads when it draws a page) and in localStorage, so a
     cleared cookie does not make a new device of the same TV. An STB portal's ?device= only names the first
     registration. Each reload below happens at most once per session, so a browser without cookies cannot loop. */
  function storage(name, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(name); }
      window.localStorage.setItem(name, value);
    } catch (e) { /* no storage: the cookie alone keeps it */ }
    return null;
  }
  function once(name, value) {
    try {
      if (window.sessionStorage.getItem(name) === value) { return false; }
      window.sessionStorage.setItem(name, value);
    } catch (e) { return false; }
    return true;
  }
  /* The page is drawn again with its device, unless the resident is already on the way elsewhere: the next page
     carries the cookie, and a reload now would pull them back. */
  function useToken(token) {
    document.cookie = 'device_token=' + encodeURIComponent(token) + '; path=/; max-age=315360000; samesite=lax';
    if (!TV.leaving) { location.reload(); }
  }
  if (window.addEventListener) { window.addEventListener('beforeunload', function () { TV.leaving = true; }, false); }
  function keepDevice() {
    if (TV.token) {
      storage('device-token', TV.token);
      storage('device', TV.device);
      return;
    }
    var stored = storage('device-token');
    if (stored && once('device-restored', stored)) { useToken(stored); return; }
    /* Marked only once a registration came back: one cut short by leaving the page is simply made again. */
    try { if (window.sessionStorage.getItem('device-registered')) { return; } } catch (e) { return; }
    TV.request('POST', '/api/v1/devices', { mw: TV.middleware, device_id: TV.deviceHint }, function (status, data) {
      if (status === 201 && data && data.token && once('device-registered', data.token)) {
        storage('device-token', data.token);
        storage('device', data.device_id);
        useToken(data.token);
      }
    });
  }

  document.onkeydown = onKey;
  if (document.addEventListener) { document.addEventListener('click', onClick, false); }
  keepDevice();
  focusStart();
}());
