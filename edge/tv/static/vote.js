/* A meeting's open question under the live picture (never a pop-up): number keys or OK vote; a later press
   changes the vote, and the edge counts each household's last one. */
(function () {
  var TV = window.TV;
  var panel = document.getElementById('vote');
  var stream = panel.getAttribute('data-stream');
  var question = null;
  var sending = false;

  function byId(id) { return document.getElementById(id); }
  function setText(el, text) { el.innerHTML = ''; el.appendChild(document.createTextNode(text)); }

  function send(n) {
    if (!question || sending || n < 1 || n > question.choices.length) { return; }
    sending = true;
    var body = { id: TV.uuid(), kind: 'vote', device_id: TV.device, body: { question_id: question.id, choice: n } };
    TV.request('POST', '/api/v1/submissions', body, function (status, data) {
      sending = false;
      if (status === 200 || status === 201) {
        setText(byId('vote-status'), TV.text('vote.sent', { label: question.choices[n - 1] }));
      } else if (status === 429) {
        setText(byId('vote-status'), TV.text('form.too_many'));
      } else if (status === 403 && data && data.error === 'not_paired') {
        setText(byId('vote-status'), TV.text('vote.not_paired'));
      } else {
        setText(byId('vote-status'), TV.text('vote.failed'));
      }
    });
  }
  TV.actions.vote = function (el) { send(parseInt(el.getAttribute('data-choice'), 10)); };
  TV.onDigit = function (d) { send(d); };

  function show(q) {
    question = q;
    setText(byId('vote-text'), TV.text('vote.heading', { text: q.text }));
    var row = byId('vote-choices');
    row.innerHTML = '';
    for (var i = 0; i < q.choices.length; i++) {
      var a = document.createElement('a');
      a.className = 'focusable btn';
      a.id = 'vote-' + (i + 1);
      a.href = '#';
      a.setAttribute('data-action', 'vote');
      a.setAttribute('data-choice', String(i + 1));
      a.appendChild(document.createTextNode((i + 1) + ' ' + q.choices[i]));
      row.appendChild(a);
    }
    setText(byId('vote-status'), '');
    TV.removeClass(panel, 'off');
  }

  function hide() {
    var inside = TV.focused() && panel.contains(TV.focused());
    question = null;
    TV.addClass(panel, 'off');
    if (inside) { TV.focus(byId('toggle')); }
  }

  function poll() {
    TV.request('GET', '/api/v1/streams/' + encodeURIComponent(stream) + '/vote', null, function (status, data) {
      var q = status === 200 && data ? data.question : null;
      if (q && q.open !== false) {
        if (!question || question.id !== q.id) { show(q); }
      } else if (question) {
        hide();
      }
      setTimeout(poll, 3000);
    });
  }
  poll();
}());
