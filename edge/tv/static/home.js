/* The daily check-in in one press, and number keys 1–8 as shortcuts to the eight areas. */
(function () {
  var TV = window.TV;
  function byId(id) { return document.getElementById(id); }
  function say(text) {
    var status = byId('checkin-status');
    if (status) { status.innerHTML = ''; status.appendChild(document.createTextNode(text)); }
  }

  TV.actions.checkin = function (el) {
    if (TV.hasClass(el, 'done') || TV.hasClass(el, 'sending')) { return; }
    TV.addClass(el, 'sending');
    say(TV.text('home.checkin_sending'));
    var body = { id: el.getAttribute('data-id'), kind: 'checkin', device_id: TV.device,
                 body: { status: 'well', day: el.getAttribute('data-day') } };
    TV.request('POST', '/api/v1/submissions', body, function (status) {
      TV.removeClass(el, 'sending');
      if (status === 200 || status === 201) {
        TV.addClass(el, 'done');
        byId('checkin-label').innerHTML = '';
        byId('checkin-label').appendChild(document.createTextNode(TV.text('home.checked_in')));
        say('');
      } else {
        say(TV.text('home.checkin_failed'));
      }
    });
  };

  if (TV.page === 'home') {
    TV.onDigit = function (d) {
      var tiles = document.getElementsByTagName('a');
      for (var i = 0; i < tiles.length; i++) {
        if (tiles[i].getAttribute('data-digit') === String(d)) { TV.focus(tiles[i]); TV.activate(tiles[i]); return; }
      }
    };
  }
}());
