/* One of my submissions: its state updates by itself (queued → delivered, then the city's case: 已受理 → 办理中 →
   已答复 → 已办结, with its expected date), and a reply is rated 1–5 (a low rating may reopen the case). */
(function () {
  var TV = window.TV;
  var box = document.getElementById('submission');
  var id = box.getAttribute('data-id');
  var state = box.getAttribute('data-state');
  var shown = state + '/' + box.getAttribute('data-case');
  function caseOf(data) { var c = data['case']; return c ? c.state + '|' + (c.due_date || '') : ''; }
  var rating = false;

  function rate(score) {
    if (rating || !document.getElementById('score-1')) { return; }
    rating = true;
    var body = { id: box.getAttribute('data-rating-id'), kind: 'rating', device_id: TV.device,
                 body: { submission_id: id, score: score } };
    TV.request('POST', '/api/v1/submissions', body, function (status) {
      rating = false;
      if (status === 200 || status === 201 || status === 409) { location.replace(location.pathname); return; }
      var note = document.getElementById('rate-status');
      note.innerHTML = '';
      note.appendChild(document.createTextNode(TV.text('mine.rating_failed')));
    });
  }
  TV.actions.rate = function (el) { rate(parseInt(el.getAttribute('data-score'), 10)); };
  TV.onDigit = function (d) { if (d >= 1 && d <= 5) { rate(d); } };

  function poll() {
    TV.request('GET', '/api/v1/submissions/' + id, null, function (status, data) {
      if (status === 200 && data && data.state + '/' + caseOf(data) !== shown) {
        location.replace(location.pathname);
        return;
      }
      setTimeout(poll, 3000);
    });
  }
  if (state !== 'closed') { setTimeout(poll, 3000); }
}());
