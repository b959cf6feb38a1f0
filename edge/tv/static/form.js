/* A form by remote: pick one choice, type digits on the pad (or the remote's number keys), send.
   Forms that take the resident's own words open the pinyin keyboard (keyboard.js) from 写几句话; on a phone the
   text box takes them from the phone's own keyboard. The words go in body.text and the chosen label in the
   form's data-words-fields (category or service), so the city still routes by the choice.
   The submission id is made once per page, so pressing Send again after a failure cannot send it twice. */
(function () {
  var TV = window.TV;
  var form = document.getElementById('form');
  var number = '';
  var chosen = null;
  var id = TV.uuid();
  var sending = false;
  var maxDigits = 15;

  function byId(x) { return document.getElementById(x); }
  function setText(el, text) { el.innerHTML = ''; el.appendChild(document.createTextNode(text)); }
  function say(key) { setText(byId('form-status'), key ? TV.text(key) : ''); }
  function showNumber() { if (byId('number')) { setText(byId('number'), number || '—'); } }

  TV.actions.choose = function (el) {
    var all = form.getElementsByTagName('a');
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute('data-action') === 'choose') {
        TV.removeClass(all[i], 'chosen');
        all[i].setAttribute('aria-pressed', 'false');
        all[i].getElementsByTagName('span')[0].innerHTML = '&#9744;';
        TV.addClass(all[i].getElementsByTagName('span')[1], 'off');
      }
    }
    chosen = el;
    TV.addClass(el, 'chosen');
    el.setAttribute('aria-pressed', 'true');
    el.getElementsByTagName('span')[0].innerHTML = '&#9745;';  /* a tick, so colour is not the only cue */
    TV.removeClass(el.getElementsByTagName('span')[1], 'off');
    say('');
  };

  function digit(d) {
    if (!form.getAttribute('data-number-field') || number.length >= maxDigits) { return; }
    number += String(d);
    showNumber();
  }
  TV.actions.digit = function (el) { digit(el.getAttribute('data-digit')); };
  TV.actions['delete'] = function () { number = number.substring(0, number.length - 1); showNumber(); };
  TV.actions.clear = function () { number = ''; showNumber(); };
  TV.onDigit = digit;

  function words() {
    var box = byId('words-phone');
    var typed = box && box.offsetWidth ? box.value : (TV.keyboard ? TV.keyboard.text() : '');
    return typed.replace(/^\s+|\s+$/g, '');
  }

  TV.actions.write = function () {
    TV.addClass(byId('form-main'), 'off');
    TV.keyboard.open(function (typed) {
      TV.removeClass(byId('form-main'), 'off');
      setText(byId('words-shown'), typed || TV.text('form.words_none'));
      setText(byId('write'), TV.text(typed ? 'form.rewrite' : 'form.write'));
      TV.focus(byId('write'));
    });
  };

  TV.actions.submit = function () {
    if (sending) { return; }
    if (!chosen) {
      say('form.need_choice');
      TV.focus(byId('choice-0'));
      return;
    }
    var body = {};
    var label = chosen.getAttribute('data-label');
    var said = words();
    var fields = (said ? form.getAttribute('data-words-fields') : form.getAttribute('data-fields')).split(',');
    for (var i = 0; i < fields.length; i++) { body[fields[i]] = label; }
    if (said) { body.text = said; }
    if (form.getAttribute('data-send-index')) { body.choice = parseInt(chosen.getAttribute('data-index'), 10); }
    if (number && form.getAttribute('data-number-field')) { body[form.getAttribute('data-number-field')] = number; }
    sending = true;
    say('form.sending');
    TV.request('POST', '/api/v1/submissions',
               { id: id, kind: form.getAttribute('data-kind'), device_id: TV.device, body: body },
               function (status) {
                 sending = false;
                 if (status === 200 || status === 201) { location.href = '/tv/mine/' + id; }
                 else if (status === 429) { say('form.too_many'); }
                 else { say('form.failed'); }
               });
  };
}());
