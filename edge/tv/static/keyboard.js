/* The on-screen pinyin keyboard, driven by the remote: arrows and OK on the letters, then a number key (or OK on
   a candidate) picks the character; back deletes a letter while there are letters, else closes the keyboard.
   Candidates come from /tv/pinyin.json, {syllables: {"lu": "露路…", …}}, most used first (pypinyin's data). Several
   syllables may be typed at once ("ludeng"): the longest syllable at the front is offered, the rest waits.
   The digits, with no letters typed, are typed as they are (3号楼). */
(function () {
  var TV = window.TV;
  var PER_PAGE = 9;
  var LONGEST = 6;  /* zhuang */
  var panel = document.getElementById('keyboard');
  if (!panel) { return; }
  var max = parseInt(panel.getAttribute('data-max'), 10) || 2000;
  var table = null;
  var loading = false;
  var words = '';
  var letters = '';
  var page = 0;
  var shown = [];
  var saved = { digit: null, back: null, closed: null };

  function byId(x) { return document.getElementById(x); }
  function setText(el, text) { el.innerHTML = ''; el.appendChild(document.createTextNode(text)); }
  function hint(key) { setText(byId('kb-hint'), TV.text(key)); }

  /* The longest syllable the typed letters start with, or '' (none yet, or the table has not come). */
  function syllable() {
    if (!table) { return ''; }
    for (var n = Math.min(LONGEST, letters.length); n > 0; n--) {
      if (table.hasOwnProperty(letters.substring(0, n))) { return letters.substring(0, n); }
    }
    return '';
  }

  function draw() {
    setText(byId('kb-words'), words);
    setText(byId('kb-pinyin'), letters);
    var syl = syllable();
    var all = syl ? table[syl] : '';
    var pages = Math.max(1, Math.ceil(all.length / PER_PAGE));
    if (page >= pages) { page = pages - 1; }
    shown = [];
    for (var i = 1; i <= PER_PAGE; i++) {
      var ch = all.charAt(page * PER_PAGE + i - 1);
      shown.push(ch);
      var el = byId('cand-' + i);
      setText(el.getElementsByTagName('span')[1], ch);
      if (ch) { TV.removeClass(el, 'empty'); } else { TV.addClass(el, 'empty'); }
    }
    if (loading) { hint('keyboard.loading'); }
    else if (table === false) { hint('keyboard.unavailable'); }
    else if (letters && !syl) { hint('keyboard.no_match'); }
    else if (words.length >= max) { hint('keyboard.full'); }
    else { hint(letters ? 'keyboard.pick' : 'keyboard.hint'); }
  }

  function load() {
    if (table || loading) { return; }
    loading = true;
    TV.request('GET', '/tv/pinyin.json', null, function (status, data) {
      loading = false;
      table = status === 200 && data && data.syllables ? data.syllables : false;
      draw();
    }, 60000);  /* the box builds the table at its first use: give it time */
  }

  function add(text) {
    if (words.length + text.length > max) { return false; }
    words += text;
    return true;
  }

  function pick(n) {
    var ch = shown[n - 1];
    if (!ch || !add(ch)) { return; }
    letters = letters.substring(syllable().length);
    page = 0;
    draw();
    if (!letters && TV.focused() && TV.hasClass(TV.focused(), 'kb-cand')) { TV.focus(byId('kb-a')); }
  }

  function digit(d) {
    if (letters) { if (d >= 1) { pick(d); } return; }
    if (add(String(d))) { draw(); }
  }

  function removeOne() {
    if (letters) { letters = letters.substring(0, letters.length - 1); }
    else { words = words.substring(0, words.length - 1); }
    page = 0;
    draw();
  }

  function close() {
    TV.addClass(panel, 'off');
    TV.onDigit = saved.digit;
    TV.onBack = saved.back;
    if (saved.closed) { saved.closed(words); }
  }

  TV.actions['kb-letter'] = function (el) {
    if (letters.length < LONGEST * 3) { letters += el.getAttribute('data-letter'); }
    page = 0;
    draw();
  };
  TV.actions['kb-cand'] = function (el) { pick(parseInt(el.getAttribute('data-n'), 10)); };
  TV.actions['kb-prev'] = function () { if (page > 0) { page -= 1; draw(); } };
  TV.actions['kb-next'] = function () { if (shown[PER_PAGE - 1]) { page += 1; draw(); } };
  TV.actions['kb-delete'] = removeOne;
  TV.actions['kb-clear'] = function () { words = ''; letters = ''; page = 0; draw(); };
  TV.actions['kb-mark'] = function (el) { if (add(el.getAttribute('data-mark'))) { draw(); } };
  TV.actions['kb-done'] = close;

  /* open(closed): show the keyboard over the form; closed(words) runs when the resident is done. */
  TV.keyboard = {
    open: function (closed) {
      saved.digit = TV.onDigit;
      saved.back = TV.onBack;
      saved.closed = closed;
      TV.onDigit = digit;
      TV.onBack = function () {
        if (letters) { removeOne(); } else { close(); }
        return true;
      };
      TV.removeClass(panel, 'off');
      load();
      draw();
      TV.focus(byId('kb-a'));
    },
    text: function () { return words; }
  };
}());
